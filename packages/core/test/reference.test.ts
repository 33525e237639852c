import { describe, expect, it } from 'vitest';
import { getReferenceAdapter, type ReferenceAdapter, registerReferenceAdapter } from '../src/index.js';

function adapter(family: string, reference?: string): ReferenceAdapter {
  return {
    family,
    ...(reference === undefined ? {} : { reference }),
    fromReferenceConfig: () => {
      throw new Error('not built in this test');
    },
    convertStateDict: (sd) => sd,
    forwardWithIntermediates: () => {
      throw new Error('not run in this test');
    },
  };
}

describe('reference adapters', () => {
  it("a family's only adapter serves any reference", () => {
    const only = adapter('test-single');
    registerReferenceAdapter(only);
    expect(getReferenceAdapter('test-single')).toBe(only);
    expect(getReferenceAdapter('test-single', 'whatever made the export')).toBe(only);
  });

  it('a family with several references picks the one the reference string starts with', () => {
    const a = adapter('test-several', 'timm');
    const b = adapter('test-several', 'pycls');
    registerReferenceAdapter(a);
    registerReferenceAdapter(b);
    expect(getReferenceAdapter('test-several', 'timm 0.6.13 VisionTransformer')).toBe(a);
    expect(getReferenceAdapter('test-several', 'pycls.models.vit.ViT')).toBe(b);
    expect(() => getReferenceAdapter('test-several')).toThrow(/family 'test-several' has several references \('pycls', 'timm'\)/);
    expect(() => getReferenceAdapter('test-several', 'torchvision')).toThrow(
      /family 'test-several': reference 'torchvision' does not start with exactly one of 'pycls', 'timm'/,
    );
    // Registering the same family and reference again replaces the adapter.
    const a2 = adapter('test-several', 'timm');
    registerReferenceAdapter(a2);
    expect(getReferenceAdapter('test-several', 'timm')).toBe(a2);
  });

  it('an unknown family names the known ones', () => {
    expect(() => getReferenceAdapter('test-none')).toThrow(/no reference adapter for family 'test-none' \(known: .*test-single/);
  });
});
