import { describe, expect, it } from 'vitest';
import { checkRegisteredModel } from '../../../test-utils/index.js';
import { modelCheckCases } from './model-check-cases.js';

// See model-check-cases.ts for the input sizes and why some models keep one block.
describe('shared model checks: ViT-Ti/S/B, DeiT and vit_micro_32', () => {
  const cases = modelCheckCases('others');
  it('covers its share of the registry', () => {
    expect(cases.length).toBeGreaterThan(0);
  });
  for (const c of cases) {
    it(`${c.name} at ${c.options.imgSize} px${c.options.depth ? ', depth 1' : ''}`, () => {
      checkRegisteredModel(c.name, c.options);
    });
  }
});
