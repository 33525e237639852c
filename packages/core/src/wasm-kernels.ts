// Kernel replacements for the WebAssembly backend. Its Identity kernel copies
// the tensor, and tfjs runs Identity (tensor.clone) for every tensor it saves
// for the backward pass, so a training step held two copies of most
// activations (ViT-Ti at 32 px, batch 16: 783 MiB of Identity output). Sharing
// the data, as the CPU backend's Identity and wasm's own Reshape do, is safe:
// tfjs tensors are immutable and Variable.assign replaces the data id.
import * as tf from '@tensorflow/tfjs-core';

interface RefCountingBackend {
  incRef(dataId: tf.DataId): void;
}

let patched = false;

/** Installs the replacements once; call after the 'wasm' backend is registered. */
export function patchWasmKernels(): void {
  if (patched) return;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs['x'] as tf.TensorInfo;
      (backend as unknown as RefCountingBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  patched = true;
}
