import * as tf from '@tensorflow/tfjs-core';
import { getReferenceAdapter } from '@vitkit/core';
import { runParityFixture } from '@vitkit/node';
import { VisionTransformer } from '@vitkit/vit';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../../test-utils/index.js';
import { fromPyclsParams, fromTimmHybridArgs, type HybridEmbed, ResNetV2, ResNetV2Stem, timmHybridReferenceAdapter } from '../src/index.js';

// timm 0.6.13's VisionTransformer with HybridEmbed over ResNetV2 (preact=False),
// exported at 64 px: vit_hybrid_tiny has two bottleneck stages (layers [1, 1],
// channels 128, 256, stem 64, patch 1), vit_hybrid_stem_tiny the stem alone
// (layers [], stem 32, patch 4). At 64 px the stem's 7x7/2 convolution pads
// [2, 3] and its max pool [0, 1]: "SAME" is asymmetric there.
describe.each([
  ['vit_hybrid_tiny', ['blocks.1', 'logits', 'patch_embed', 'patch_embed.backbone.stages.0', 'patch_embed.backbone.stem']],
  ['vit_hybrid_stem_tiny', ['logits', 'norm', 'patch_embed']],
])('parity with timm (%s)', (name, tensors) => {
  it('matches the logits and every intermediate to 1e-4', async () => {
    const report = await runParityFixture(fixtureDir(name));
    expect(report.unmapped).toEqual([]);
    expect(report.rows.map((r) => r.tensor).sort()).toEqual(tensors);
    for (const row of report.rows) expect(row.maxAbs, row.tensor).toBeLessThanOrEqual(1e-4);
    expect(report.numParams).toBe(report.expectedParams);
    expect(report.ok).toBe(true);
  });
});

const tiny = {
  img_size: 64,
  patch_size: 1,
  embed_dim: 64,
  depth: 1,
  num_heads: 2,
  num_classes: 3,
  backbone: { layers: [1, 1], channels: [128, 256], stem_chs: 64, padding_same: true },
};

describe('timm hybrid reference adapter', () => {
  it("is picked by the fixture's reference string; family hybrid-stem also keeps pycls", () => {
    const timm = 'timm 0.6.13 VisionTransformer with HybridEmbed over timm.models.resnetv2.ResNetV2 (preact=False)';
    expect(getReferenceAdapter('hybrid-stem', timm)).toBe(timmHybridReferenceAdapter);
    expect(getReferenceAdapter('hybrid-stem', 'pycls (facebookresearch) pycls.models.vit.ViT').fromReferenceConfig).toBe(fromPyclsParams);
    expect(() => getReferenceAdapter('hybrid-stem')).toThrow(/family 'hybrid-stem' has several references \('pycls', 'timm'\)/);
    expect(() => getReferenceAdapter('hybrid-stem', 'torchvision ViT')).toThrow(/reference 'torchvision ViT' does not start with/);
  });

  it('builds any valid configuration: symmetric padding, odd sizes, widths timm rounds, other inputs and patches', () => {
    const model = fromTimmHybridArgs({
      img_size: [60, 44],
      patch_size: 2,
      in_chans: 1,
      embed_dim: 48,
      depth: 2,
      num_heads: 3,
      mlp_ratio: 3,
      num_classes: 4,
      // timm's make_div rounds 257 to 256 (bottleneck 64) and 130 to 128 (bottleneck 32).
      backbone: { layers: [2, 1], channels: [130, 257, 999], stem_chs: 32, padding_same: false },
    });
    try {
      const embed = model.patchEmbed as HybridEmbed;
      expect(embed.backbone).toBeInstanceOf(ResNetV2);
      // Symmetric padding: 60x44 -> conv 30x22 -> pool 15x11 -> stage 1 at stride 2: 8x6 -> 2x2 patches: 4x3.
      expect(model.grid).toEqual([4, 3]);
      const shapes = model.stateShapes();
      expect(shapes['patch_embed.backbone.stem.conv.weight']).toEqual([32, 1, 7, 7]);
      expect(shapes['patch_embed.backbone.stages.0.blocks.0.conv3.weight']).toEqual([128, 32, 1, 1]);
      expect(shapes['patch_embed.backbone.stages.0.blocks.1.conv1.weight']).toEqual([32, 128, 1, 1]);
      expect(shapes['patch_embed.backbone.stages.1.blocks.0.downsample.conv.weight']).toEqual([256, 128, 1, 1]);
      expect(shapes['patch_embed.proj.weight']).toEqual([48, 256, 2, 2]);
      expect(model.numParams()).toBe(model.complexity().params);
      const y = tf.tidy(() => model.forward(tf.zeros([2, 60, 44, 1])));
      expect(y.shape).toEqual([2, 4]);
      y.dispose();
    } finally {
      model.dispose();
    }
  });

  it('with layers [] the backbone is the stem itself, named as timm (patch_embed.backbone.conv)', () => {
    const model = fromTimmHybridArgs({ ...tiny, patch_size: 4, backbone: { layers: [], stem_chs: 32 } });
    try {
      expect((model.patchEmbed as HybridEmbed).backbone).toBeInstanceOf(ResNetV2Stem);
      expect(Object.keys(model.stateShapes()).filter((k) => k.startsWith('patch_embed.'))).toEqual([
        'patch_embed.backbone.conv.weight',
        'patch_embed.backbone.norm.weight',
        'patch_embed.backbone.norm.bias',
        'patch_embed.proj.weight',
        'patch_embed.proj.bias',
      ]);
      expect(model.grid).toEqual([4, 4]);
    } finally {
      model.dispose();
    }
  });

  it('lays out every intermediate as PyTorch: maps NCHW, tokens [B, N, C]', () => {
    const model = fromTimmHybridArgs(tiny).eval();
    try {
      tf.tidy(() => {
        const { logits, intermediates } = timmHybridReferenceAdapter.forwardWithIntermediates(model, tf.zeros([1, 64, 64, 3]));
        expect(logits.shape).toEqual([1, 3]);
        const shapes = Object.fromEntries(Object.entries(intermediates).map(([k, t]) => [k, t.shape]));
        expect(shapes).toMatchObject({
          'patch_embed.backbone.stem.conv': [1, 64, 32, 32],
          'patch_embed.backbone.stem.pool': [1, 64, 16, 16],
          'patch_embed.backbone.stem': [1, 64, 16, 16],
          'patch_embed.backbone.stages.0': [1, 128, 16, 16],
          'patch_embed.backbone.stages.1': [1, 256, 8, 8],
          'patch_embed.proj': [1, 64, 8, 8],
          patch_embed: [1, 64, 64],
          'blocks.0': [1, 65, 64],
          norm: [1, 65, 64],
        });
      });
    } finally {
      model.dispose();
    }
    expect(model).toBeInstanceOf(VisionTransformer);
  });

  it.each([
    [{ ...tiny, backbone: undefined }, /backbone is required/],
    [{ ...tiny, backbone: { channels: [128] } }, /backbone.layers is required/],
    [{ ...tiny, backbone: { layers: [1], width_factor: 2 } }, /backbone has unknown key\(s\) width_factor/],
    [{ ...tiny, backbone: { layers: [1, 1], channels: [128] } }, /channels needs one entry per stage \(layers has 2/],
    [{ ...tiny, backbone: { layers: [1], channels: [96] } }, /stage 0's bottleneck width \(make_div\(96 \/ 4\)\) is 24/],
    [{ ...tiny, backbone: { layers: [], stem_chs: 48 } }, /the stem width is 48, which the 32 GroupNorm groups do not divide/],
    [{ ...tiny, backbone: { layers: [1.5] } }, /backbone.layers must be a list of positive whole numbers/],
    [{ ...tiny, backbone: { layers: [1], padding_same: 'yes' } }, /backbone.padding_same must be true or false/],
    [{ ...tiny, patch_size: 3 }, /8x8 feature map, which 3x3 patches do not tile/],
    [{ ...tiny, num_heads: 5 }, /embedDim 64 is not divisible by numHeads 5/],
    [{ ...tiny, drop_block: 0.1 }, /unknown timm VisionTransformer argument\(s\) drop_block/],
  ])('rejects %o', (args, message) => {
    expect(() => fromTimmHybridArgs(args as Record<string, unknown>)).toThrow(message);
  });
});
