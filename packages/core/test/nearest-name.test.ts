import { describe, expect, it } from 'vitest';
import { editDistance, nearestName } from '../src/index.js';

describe('nearest-name suggestions', () => {
  it('counts single-character edits', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('batch', 'batch')).toBe(0);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('batch-sise', 'batch-size')).toBe(1);
  });

  it('suggests the nearest candidate, and nothing for a word that is no typo of any', () => {
    const options = ['batch-size', 'epochs', 'eval-batch-size', 'lr'];
    expect(nearestName('batch-sze', options)).toBe('batch-size');
    expect(nearestName('epoch', options)).toBe('epochs');
    expect(nearestName('batch', options)).toBe('batch-size');
    expect(nearestName('lr', ['limit'])).toBeUndefined();
    expect(nearestName('frobnicate', options)).toBeUndefined();
    expect(nearestName('vit_tiny_patch16_22', ['vit_tiny_patch16_224', 'vit_tiny_patch16_384'])).toBe('vit_tiny_patch16_224');
  });
});
