import * as tf from '@tensorflow/tfjs-core';

export interface BackendInfo {
  backend: string;
  tfjsVersion: string;
  /** Threads the backend computes with (1 for WebAssembly under Node, where tfjs disables threads). */
  threads: number;
  simd: boolean | null;
}

/** Which backend tfjs is running on now. */
export function backendInfo(): BackendInfo {
  const backend = tf.getBackend();
  const env = tf.env();
  const flag = (name: string) => (env.getFlags()[name] === undefined ? null : env.getBool(name));
  let threads = 1;
  if (backend === 'wasm' && flag('WASM_HAS_MULTITHREAD_SUPPORT')) {
    const b = tf.backend() as unknown as { getThreadsCount?: () => number };
    threads = b.getThreadsCount?.() ?? 1;
  }
  if (backend === 'tensorflow') threads = 0;
  return {
    backend,
    tfjsVersion: tf.version_core,
    threads,
    simd: backend === 'wasm' ? flag('WASM_HAS_SIMD_SUPPORT') : null,
  };
}
