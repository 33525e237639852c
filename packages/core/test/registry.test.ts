import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  type Cost,
  type CreateOptions,
  createModel,
  declareOptions,
  getModelEntry,
  IMAGENET_MEAN,
  IMAGENET_STD,
  ImageClassifier,
  Linear,
  listModels,
  type ModelDefaults,
  registerModel,
} from '../src/index.js';

const TOY_OPTIONS = declareOptions('PoolHead', { numClasses: 10, imgSize: 32, inChannels: 3 });

// Throwaway names under a prefix no real model uses.
const P = 'zzcoretest';

/** Global average pooling and a linear head: the smallest thing that is an ImageClassifier. */
class PoolHead extends ImageClassifier {
  readonly head: Linear;
  readonly imgSize: [number, number];

  constructor(
    readonly numClasses: number,
    size: number,
    readonly inChannels: number,
  ) {
    super();
    this.imgSize = [size, size];
    this.head = this.addModule('head', new Linear(inChannels, numClasses));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.head.forward(tf.mean(x, [1, 2]));
  }

  complexity(): Cost {
    return Linear.cost(this.inChannels, this.numClasses, 1);
  }
}

function defaults(family: string): ModelDefaults {
  return {
    family,
    imgSize: 32,
    inChannels: 3,
    numClasses: 10,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    cropPct: 0.875,
    interpolation: 'bicubic',
    implementation: 'none (test)',
    paper: 'none',
    figures: {},
  };
}

function register(name: string, family: string): void {
  const d = defaults(family);
  registerModel({
    name,
    defaults: d,
    options: TOY_OPTIONS,
    create: (o: CreateOptions = {}) => new PoolHead(o.numClasses ?? d.numClasses, o.imgSize ?? d.imgSize, o.inChannels ?? d.inChannels),
    cost: (o: CreateOptions = {}) => Linear.cost(o.inChannels ?? d.inChannels, o.numClasses ?? d.numClasses, 1),
  });
}

register(`${P}_alpha_small`, `${P}-a`);
register(`${P}_alpha_base`, `${P}-a`);
register(`${P}_beta_small`, `${P}-b`);
register(`${P}_beta.384`, `${P}-b`);

describe('model registry', () => {
  it('createModel builds with the defaults and with options; forward gives logits', () => {
    const model = createModel(`${P}_alpha_small`);
    expect(model.numClasses).toBe(10);
    expect(model.imgSize).toEqual([32, 32]);
    const custom = createModel(`${P}_alpha_small`, { numClasses: 4, imgSize: 8 });
    expect(custom.numClasses).toBe(4);
    const y = tf.tidy(() => custom.forward(tf.ones([2, 8, 8, 3])));
    expect(y.shape).toEqual([2, 4]);
    expect(custom.complexity()).toEqual(getModelEntry(`${P}_alpha_small`).cost({ numClasses: 4 }));
    expect(custom.numParams()).toBe(custom.complexity().params);
    tf.dispose(y);
    model.dispose();
    custom.dispose();
  });

  it('listModels filters by wildcard over the whole name and by family, sorted', () => {
    expect(listModels(`${P}_*`)).toEqual([`${P}_alpha_base`, `${P}_alpha_small`, `${P}_beta.384`, `${P}_beta_small`]);
    expect(listModels(`${P}_*_small`)).toEqual([`${P}_alpha_small`, `${P}_beta_small`]);
    expect(listModels(`*.384`).filter((n) => n.startsWith(P))).toEqual([`${P}_beta.384`]);
    // '.' is literal, and the pattern must match the whole name.
    expect(listModels(`${P}_beta_384`)).toEqual([]);
    expect(listModels(`${P}_alpha`)).toEqual([]);
    expect(listModels('*', { family: `${P}-b` })).toEqual([`${P}_beta.384`, `${P}_beta_small`]);
    expect(listModels(`${P}_*_small`, { family: `${P}-a` })).toEqual([`${P}_alpha_small`]);
    expect(listModels('*', { family: 'no-such-family' })).toEqual([]);
    expect(listModels()).toEqual(expect.arrayContaining([`${P}_alpha_base`]));
  });

  it('registering a name twice is an error that names it', () => {
    expect(() => register(`${P}_alpha_small`, `${P}-a`)).toThrow(`registerModel: '${P}_alpha_small' is already registered`);
  });

  it('an unknown name is an error that suggests the nearest name', () => {
    expect(() => createModel(`${P}_alpha_smal`)).toThrow(new RegExp(`unknown model '${P}_alpha_smal'; did you mean ${P}_alpha_small\\?`));
    expect(() => createModel(`${P}_beta_384`)).toThrow(new RegExp(`did you mean ${P}_beta.384\\?`));
    expect(() => getModelEntry('qqq_nothing')).toThrow(/^unknown model 'qqq_nothing' \(\d+ registered; listModels\(\) shows them\)$/);
  });

  it('a name with weights (hf-hub:, local-dir:, a registered NAME.TAG) is refused with a pointer to loadPretrained', () => {
    register(`${P}_gamma`, `${P}-g`);
    for (const name of ['hf-hub:timm/vit_small_patch16_224.augreg_in21k_ft_in1k', 'local-dir:runs/train', `${P}_gamma.in1k`]) {
      expect(() => createModel(name)).toThrow(
        `createModel('${name}'): this name points at pretrained weights, which cannot be fetched synchronously; use await loadPretrained('${name}') from '@vitkit/node'`,
      );
    }
    expect(() => createModel(`${P}_nothing.in1k`)).toThrow(/unknown model/);
  });
});
