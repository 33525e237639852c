import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { readTorchCheckpoint, type StateDict } from '../src/index.js';

const dir = new URL('./fixtures/torch-checkpoints/', import.meta.url).pathname;
const read = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

interface Expected {
  dtype: string;
  shape: number[];
  values: number[];
}
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<
  'state_dict' | 'model_ema',
  Record<string, Expected>
>;

let held: StateDict[] = [];
afterEach(() => {
  for (const sd of held) tf.dispose(Object.values(sd));
  held = [];
});

function load(name: string, key?: string) {
  const got = readTorchCheckpoint(read(name), name, key === undefined ? {} : { key });
  held.push(got.stateDict);
  return got;
}

function expectStateDict(sd: StateDict, want: Record<string, Expected>) {
  expect(Object.keys(sd)).toEqual(Object.keys(want));
  for (const [name, e] of Object.entries(want)) {
    const t = sd[name]!;
    expect(t.shape, name).toEqual(e.shape);
    expect(t.dtype, name).toBe(e.dtype.startsWith('int') ? 'int32' : 'float32');
    const values = Array.from(t.dataSync());
    // torch gives float16/bfloat16/float32 values as doubles that float32 holds exactly.
    expect(values, name).toEqual(e.dtype.startsWith('int') ? e.values : e.values.map((v) => Math.fround(v)));
  }
}

describe('PyTorch zip checkpoints (written by torch.save)', () => {
  it('reads a bare state dict: float32, float16, bfloat16, int64, a transposed view, a shared storage, a Parameter, an empty tensor', () => {
    const got = load('plain.pth');
    expect(got.key).toBeNull();
    expectStateDict(got.stateDict, expected.state_dict);
  });

  it("finds the weights under 'model' or 'state_dict', or under the key asked for", () => {
    expect(load('nested-model.pth').key).toBe('model');
    expectStateDict(load('nested-model.pth').stateDict, expected.state_dict);
    const sd = load('nested-state-dict.pth');
    expect(sd.key).toBe('state_dict');
    expect(sd.topLevelKeys).toEqual(['state_dict', 'arch']);
    expectStateDict(sd.stateDict, expected.state_dict);
    expectStateDict(load('nested-model-ema.pth', 'model_ema').stateDict, expected.model_ema);
    expectStateDict(load('nested-model-ema.pth').stateDict, expected.state_dict);
  });

  it("reads a timm train.py checkpoint: its args (an argparse.Namespace) are inert data, the weights under 'state_dict'", () => {
    const got = load('timm-train.pth');
    expect(got.key).toBe('state_dict');
    expectStateDict(got.stateDict, expected.state_dict);
    expectStateDict(load('timm-train.pth', 'state_dict_ema').stateDict, expected.model_ema);
    expect(() => load('timm-train.pth', 'args')).toThrow("timm-train.pth: 'args' is an argparse.Namespace, not a state dict");
  });

  it("drops DataParallel's module. prefix", () => {
    expectStateDict(load('data-parallel.pth').stateDict, expected.state_dict);
  });

  it('names the file and the key when the weights are not where asked or not tensors', () => {
    expect(() => load('nested-model.pth', 'model_ema')).toThrow(
      "nested-model.pth: has no top-level key 'model_ema' (its keys: model, epoch)",
    );
    expect(() => load('nested-model.pth', 'epoch')).toThrow("nested-model.pth: 'epoch' is a number, not a state dict");
    expect(() => load('int64-overflow.pth')).toThrow(
      "int64-overflow.pth: the checkpoint['big'] holds 1099511627776, outside the int32 range",
    );
    expect(() => load('legacy-format.pth')).toThrow("legacy-format.pth: is a bare pickle (PyTorch's pre-1.6 format");
    expect(() => readTorchCheckpoint(new TextEncoder().encode('not a checkpoint'), 'x.pth')).toThrow(
      'x.pth: is not a PyTorch zip checkpoint',
    );
  });
});

describe('hostile pickles are refused without running anything', () => {
  const marker = join(tmpdir(), `vitkit-unpickle-marker-${process.pid}`);
  process.env['VITKIT_MARKER'] = marker;
  const cases: [string, string][] = [
    ['os-system', 'refuses the Python class or function os.system'],
    ['builtins-eval', 'refuses the Python class or function builtins.eval'],
    ['inst-os-system', 'refuses the pickle opcode INST (on os.system)'],
    ['obj-os-system', 'refuses the Python class or function os.system'],
    // Python 3 writes protocol-2 globals under their Python 2 names: subprocess.Popen becomes commands.Popen.
    ['reduce-subprocess', 'refuses the Python class or function commands.Popen'],
    ['state-dict-with-payload', 'refuses the Python class or function os.system'],
    ['build-payload', 'refuses the Python class or function os.system'],
    ['newobj-ordereddict', 'refuses the pickle opcode NEWOBJ (on collections.OrderedDict)'],
    ['namespace-payload', 'refuses the Python class or function os.system'],
    ['namespace-reduce', 'refuses to call argparse.Namespace: it is only allowed as an attribute bag'],
  ];
  for (const [name, message] of cases) {
    it(name, () => {
      const file = `hostile-${name}.pth`;
      expect(() => readTorchCheckpoint(read(file), file)).toThrow(`${file} (archive/data.pkl): ${message}`);
      expect(existsSync(marker)).toBe(false);
    });
  }
});
