import { describe, expect, it } from 'vitest';
import { declareOptions, nearestName, presetValue } from '../src/index.js';

const OPTIONS = declareOptions('Toy', {
  depth: 12,
  embedDim: 768,
  pool: 'token' as 'token' | 'avg',
  hidden: null as number | null,
  split: presetValue<number[]>(),
});

describe('declareOptions: one declaration gives the names, the type and the resolver', () => {
  it('accepts exactly the declared names, in order', () => {
    expect(OPTIONS.names).toEqual(['depth', 'embedDim', 'pool', 'hidden', 'split']);
    expect(() => OPTIONS.check({ depth: 2, split: [1] })).not.toThrow();
  });

  it('names an unknown option, suggests the nearest and lists the real ones', () => {
    expect(() => OPTIONS.check({ dept: 2 }, 'toy_small')).toThrow(
      "toy_small: unknown option 'dept' (did you mean 'depth'?); accepted: depth, embedDim, pool, hidden, split",
    );
    expect(() => OPTIONS.check({ embed_dim: 1, colour: 'red' })).toThrow(
      "Toy: unknown options 'embed_dim' (did you mean 'embedDim'?), 'colour'; accepted:",
    );
  });

  it('treats undefined as the default in every layer', () => {
    expect(
      OPTIONS.resolve([
        { depth: 3, split: [1, 2] },
        { depth: undefined, pool: 'avg' },
      ]),
    ).toEqual({
      depth: 3,
      embedDim: 768,
      pool: 'avg',
      hidden: null,
      split: [1, 2],
    });
    expect(OPTIONS.defined({ depth: undefined, hidden: null })).toEqual({ hidden: null });
    expect(() => OPTIONS.resolve([{ depth: 3 }, { deep: 1 }], 'toy_small')).toThrow(/toy_small: unknown option 'deep'/);
  });

  it('suggests a name only when it is close', () => {
    expect(nearestName('shiftedPatch', ['shiftedPatches', 'patchSize'])).toBe('shiftedPatches');
    expect(nearestName('IMG_SIZE', ['imgSize'])).toBe('imgSize');
    expect(nearestName('colour', ['depth', 'embedDim'])).toBeUndefined();
  });
});
