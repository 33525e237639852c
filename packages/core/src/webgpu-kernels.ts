// Kernel replacements for tfjs-backend-webgpu (4.22).
// - AddN: its own binds every input as a storage buffer of one shader, so past the
//   device's maxStorageBuffersPerShaderStage (8 on llvmpipe, the WebGPU default)
//   the pipeline is invalid and the result silently zeros; clipping gradients by
//   their global norm adds one tensor per parameter. This one sums groups that fit
//   with the original kernel, then sums the partial sums.
import * as tf from '@tensorflow/tfjs-core';

interface WebGpuBackendInternals {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: tf.DataId): boolean;
}

let installed = false;

/** Installs the replacements once; call after the 'webgpu' backend is registered. */
export function installWebGpuKernels(): void {
  const config = tf.getKernel('AddN', 'webgpu');
  if (installed || !config) return;
  const own = config.kernelFunc;
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({
    ...config,
    kernelFunc: (args) => {
      const backend = args.backend as unknown as WebGpuBackendInternals;
      // One binding of the shader is its output.
      const most = backend.device.limits.maxStorageBuffersPerShaderStage - 1;
      let terms = args.inputs as unknown as tf.TensorInfo[];
      if (terms.length <= most) return own(args);
      const partialSums: tf.TensorInfo[] = [];
      while (terms.length > most) {
        const next: tf.TensorInfo[] = [];
        for (let i = 0; i < terms.length; i += most) {
          const group = terms.slice(i, i + most);
          if (group.length === 1) next.push(group[0]!);
          else next.push(own({ ...args, inputs: group as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo);
        }
        partialSums.push(...next.filter((t) => !terms.includes(t)));
        terms = next;
      }
      const sum = own({ ...args, inputs: terms as unknown as tf.NamedTensorInfoMap });
      for (const t of partialSums) backend.disposeData(t.dataId);
      return sum;
    },
  });
  installed = true;
}
