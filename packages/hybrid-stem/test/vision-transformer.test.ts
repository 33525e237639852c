import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '@vitkit/core';
import { VisionTransformer } from '@vitkit/vit';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../test-utils/index.js';
import '../src/index.js';

describe('ViTC and ViTP are VisionTransformers', () => {
  it.each(['vitc_micro_32', 'vitp_1gf'])('%s: features API and pycls conventions', (name) => {
    const model = createModel(name, name === 'vitp_1gf' ? { imgSize: 32, depth: 2 } : {}).eval();
    try {
      expect(model).toBeInstanceOf(VisionTransformer);
      const v = model as VisionTransformer;
      expect(v.config).toMatchObject({ eps: 1e-5, classToken: true, globalPool: 'token', fcNorm: false });
      tf.tidy(() => {
        const img = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 2);
        const r = v.forwardIntermediates(img, { indices: [-1], norm: true });
        const [last] = r.intermediates as tf.Tensor[];
        expect(last!.shape).toEqual([1, 1 + v.grid[0] * v.grid[1], v.embedDim]);
        expectClose(last!, r.features as tf.Tensor, 0);
        expectClose(v.forwardHead(v.forwardFeatures(img)), v.forward(img), 0);
      });
    } finally {
      model.dispose();
    }
  });
});
