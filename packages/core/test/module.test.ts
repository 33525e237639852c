import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  BatchNorm2d,
  Conv2d,
  Dropout,
  GELU,
  Layer,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  Sequential,
  type StateDict,
  StateDictError,
  TransformerBlock,
} from '../src/index.js';

/** A small model with every kind of nesting: a ModuleList of blocks, a Sequential head, a conv stem with BatchNorm. */
class Net extends Layer {
  readonly stem = this.addModule('stem', new Sequential([new Conv2d(3, 4, 3, { stride: 2, padding: 1 }), new BatchNorm2d(4), new GELU()]));
  readonly dw = this.addModule('dw', new Conv2d(4, 8, 3, { padding: 1, groups: 4, bias: false }));
  readonly blocks = this.addModule(
    'blocks',
    new ModuleList([0, 1].map(() => new TransformerBlock(8, { numHeads: 2, mlpRatio: 2, eps: 1e-6 }))),
  );
  readonly head = this.addModule('head', new Sequential([new LayerNorm(8, 1e-6), new Dropout(0.1), new Linear(8, 3)]));

  forward(x: tf.Tensor): tf.Tensor {
    const f = this.dw.forward(this.stem.forward(x));
    const [b, h, w, c] = f.shape as number[];
    let tokens = tf.reshape(f, [b!, h! * w!, c!]);
    for (const block of this.blocks.items) tokens = block.forward(tokens);
    return this.head.forward(tf.mean(tokens, 1));
  }
}

function disposeAll(sd: StateDict): void {
  tf.dispose(Object.values(sd));
}

describe('Module: names, layouts and state dicts', () => {
  it('dotted names mirror the nesting (ModuleList and Sequential indices, parameter-free layers keep theirs)', () => {
    const net = new Net();
    expect(Object.keys(net.stateShapes())).toEqual([
      'stem.0.weight',
      'stem.0.bias',
      'stem.1.weight',
      'stem.1.bias',
      'stem.1.running_mean',
      'stem.1.running_var',
      'stem.1.num_batches_tracked',
      'dw.weight',
      ...[0, 1].flatMap((i) =>
        [
          'norm1.weight',
          'norm1.bias',
          'attn.qkv.weight',
          'attn.qkv.bias',
          'attn.proj.weight',
          'attn.proj.bias',
          'norm2.weight',
          'norm2.bias',
          'mlp.fc1.weight',
          'mlp.fc1.bias',
          'mlp.fc2.weight',
          'mlp.fc2.bias',
        ].map((n) => `blocks.${i}.${n}`),
      ),
      'head.0.weight',
      'head.0.bias',
      'head.2.weight',
      'head.2.bias',
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['stem.1.running_mean', 'stem.1.running_var', 'stem.1.num_batches_tracked']);
    expect(net.getSubmodule('blocks.1.attn.qkv')).toBe(net.blocks.items[1]!.attn.qkv);
    expect(net.getSubmodule('')).toBe(net);
    expect(() => net.getSubmodule('blocks.2.attn')).toThrow(/no submodule 'blocks.2.attn' \(at '2'\)/);
    expect(net.namedModules().map(([n]) => n)).toContain('head.1');
    net.dispose();
  });

  it('stateDict is in PyTorch layout: Linear [out,in], Conv2d [out,in/groups,kh,kw], depthwise [C*M,1,kh,kw]', () => {
    const linear = new Linear(3, 5);
    const conv = new Conv2d(4, 6, [3, 2], { groups: 2 });
    const depthwise = new Conv2d(3, 6, 3, { groups: 3 });
    const shapes = (m: Module) => Object.fromEntries(Object.entries(m.stateShapes()));
    expect(shapes(linear)).toEqual({ weight: [5, 3], bias: [5] });
    expect(shapes(conv)).toEqual({ weight: [6, 2, 3, 2], bias: [6] });
    expect(shapes(depthwise)).toEqual({ weight: [6, 1, 3, 3], bias: [6] });

    // Values, element by element, against the internal layouts.
    const sdLinear = linear.stateDict();
    const w = linear.weight.arraySync() as number[][];
    const torchW = sdLinear['weight']!.arraySync() as number[][];
    for (let o = 0; o < 5; o++) for (let i = 0; i < 3; i++) expect(torchW[o]![i]).toBe(w[i]![o]);

    const sdConv = conv.stateDict();
    expect(sdConv['weight']!.shape).toEqual([6, 2, 3, 2]);
    const cw = conv.weight.arraySync() as number[][][][];
    const torchC = sdConv['weight']!.arraySync() as number[][][][];
    for (let o = 0; o < 6; o++)
      for (let i = 0; i < 2; i++)
        for (let y = 0; y < 3; y++)
          for (let x = 0; x < 2; x++) {
            expect(torchC[o]![i]![y]![x]).toBe(cw[y]![x]![i]![o]);
          }

    const sdDw = depthwise.stateDict();
    const dw = depthwise.weight.arraySync() as number[][][][];
    expect(depthwise.weight.shape).toEqual([3, 3, 3, 2]);
    const torchD = sdDw['weight']!.arraySync() as number[][][][];
    // PyTorch's output channel c*M + m is input channel c's m-th filter.
    for (let c = 0; c < 3; c++)
      for (let m = 0; m < 2; m++)
        for (let y = 0; y < 3; y++)
          for (let x = 0; x < 3; x++) {
            expect(torchD[c * 2 + m]![0]![y]![x]).toBe(dw[y]![x]![c]![m]);
          }
    for (const sd of [sdLinear, sdConv, sdDw]) disposeAll(sd);
    for (const m of [linear, conv, depthwise]) m.dispose();
  });

  it('loadStateDict round trips: same state, same outputs', () => {
    const a = new Net();
    const b = new Net();
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 5);
    a.train();
    tf.dispose(tf.tidy(() => a.forward(x))); // moves BatchNorm's running statistics
    a.eval();
    b.eval();
    const sd = a.stateDict();
    expect(sd['stem.1.num_batches_tracked']!.dtype).toBe('int32');
    expect(sd['stem.1.num_batches_tracked']!.dataSync()[0]).toBe(1);
    const report = b.loadStateDict(sd);
    expect(report).toEqual({ missing: [], unexpected: [], mismatched: [] });
    const sdB = b.stateDict();
    for (const [k, t] of Object.entries(sd)) expect(Array.from(sdB[k]!.dataSync()), k).toEqual(Array.from(t.dataSync()));
    const ya = tf.tidy(() => a.forward(x));
    const yb = tf.tidy(() => b.forward(x));
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    // The state dict is a copy: disposing it leaves the model intact.
    disposeAll(sd);
    disposeAll(sdB);
    expect(a.getSubmodule('dw').namedParameters()[0]![1].isDisposed).toBe(false);
    tf.dispose([x, ya, yb]);
    a.dispose();
    b.dispose();
  });

  it('strict loading reports every missing, unexpected and mis-shaped key at once and changes nothing', () => {
    const net = new Net();
    const sd = net.stateDict();
    const source = new Net();
    const other = source.stateDict();
    const before = net.stateDict();
    // Two missing, two unexpected, two mis-shaped (one a Linear transposed, as a tfjs-layout weight would be).
    const broken: StateDict = { ...other };
    delete broken['blocks.0.attn.qkv.bias'];
    delete broken['head.2.bias'];
    broken['blocks.0.attn.q_bias'] = tf.zeros([8]);
    broken['pos_embed'] = tf.zeros([1, 4, 8]);
    broken['head.2.weight'] = tf.zeros([8, 3]);
    broken['dw.weight'] = tf.zeros([8, 4, 3, 3]);

    let error: unknown;
    try {
      net.loadStateDict(broken, { context: 'checkpoint.safetensors' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    const report = (error as StateDictError).report;
    expect(report.missing).toEqual(['blocks.0.attn.qkv.bias', 'head.2.bias']);
    expect(report.unexpected.sort()).toEqual(['blocks.0.attn.q_bias', 'pos_embed']);
    expect(report.mismatched).toEqual(['dw.weight: got [8, 4, 3, 3], expected [8, 1, 3, 3]', 'head.2.weight: got [8, 3], expected [3, 8]']);
    const message = (error as Error).message;
    expect(message).toMatch(/^checkpoint.safetensors does not match the model/);
    for (const key of [...report.missing, ...report.unexpected, 'dw.weight', 'head.2.weight']) expect(message).toContain(key);

    const after = net.stateDict();
    for (const [k, t] of Object.entries(before)) expect(Array.from(after[k]!.dataSync()), k).toEqual(Array.from(t.dataSync()));

    // Non-strict: loads what matches, reports the rest.
    const report2 = net.loadStateDict(broken, { strict: false });
    expect(report2).toEqual(report);
    const loaded = net.stateDict();
    expect(Array.from(loaded['blocks.1.mlp.fc1.weight']!.dataSync())).toEqual(Array.from(other['blocks.1.mlp.fc1.weight']!.dataSync()));
    expect(Array.from(loaded['head.2.weight']!.dataSync())).toEqual(Array.from(before['head.2.weight']!.dataSync()));
    expect(Array.from(loaded['head.2.bias']!.dataSync())).toEqual(Array.from(before['head.2.bias']!.dataSync()));

    tf.dispose([broken['blocks.0.attn.q_bias']!, broken['pos_embed']!, broken['head.2.weight']!, broken['dw.weight']!]);
    for (const d of [sd, other, before, after, loaded]) disposeAll(d);
    net.dispose();
    source.dispose();
  });

  it('train() and eval() reach every descendant; Dropout follows', () => {
    const net = new Net();
    net.eval();
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    const x = tf.ones([4, 8]);
    const drop = net.head.layers[1]!;
    expect(tf.tidy(() => drop.forward(x).dataSync())).toEqual(x.dataSync());
    net.train();
    expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
    expect(tf.tidy(() => Array.from(drop.forward(x).dataSync()).some((v) => v === 0))).toBe(true);
    net.blocks.eval();
    expect(net.training).toBe(true);
    expect(net.blocks.items[0]!.attn.training).toBe(false);
    x.dispose();
    net.dispose();
  });

  it('numParams counts trainable parameters only', () => {
    const net = new Net();
    const conv = 4 * 3 * 3 * 3 + 4;
    const bn = 2 * 4;
    const dw = 8 * 1 * 3 * 3;
    const block = 2 * 8 + (8 * 24 + 24) + (8 * 8 + 8) + 2 * 8 + (8 * 16 + 16) + (16 * 8 + 8);
    const head = 2 * 8 + 8 * 3 + 3;
    expect(net.numParams()).toBe(conv + bn + dw + 2 * block + head);
    expect(net.parameters().every((p) => p.trainable)).toBe(true);
    expect(net.namedBuffers().every(([, b]) => !b.trainable)).toBe(true);
    net.dispose();
  });

  it('a name registered twice is an error', () => {
    class Twice extends Module {
      constructor() {
        super();
        this.addModule('a', new Linear(2, 2));
        this.addModule('a', new Linear(2, 2));
      }
    }
    expect(() => new Twice()).toThrow(/'a' is registered twice/);
  });
});
