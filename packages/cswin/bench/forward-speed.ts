// One eval forward of cswin_tiny_224 against a ViT-S/16 built from core layers
// (timm's vit_small_patch16_224: width 384, depth 12, 6 heads; 4.6 GMACs vs
// CSWin-T's 4.3), same batch, same backend, interleaved in one run.
// Run: node packages/cswin/bench/run.mjs [batch] [repeats]
import * as tf from '@tensorflow/tfjs-core';
import { createModel, LayerNorm, Layer, Linear, PatchEmbed, prependToken, TransformerBlock, truncNormal } from '@vitkit/core';
import { initBackend } from '@vitkit/core/node';
import '@vitkit/cswin';

class VitSmall extends Layer {
  readonly patchEmbed = this.addModule('patch_embed', new PatchEmbed(16, 3, 384));
  readonly clsToken = this.addParameter('cls_token', truncNormal([1, 1, 384]));
  readonly posEmbed = this.addParameter('pos_embed', truncNormal([1, 197, 384]));
  readonly blocks = Array.from({ length: 12 }, (_, i) =>
    this.addModule(`blocks.${i}`, new TransformerBlock(384, { numHeads: 6, mlpRatio: 4, qkvBias: true, eps: 1e-6 })),
  );
  readonly norm = this.addModule('norm', new LayerNorm(384, 1e-6));
  readonly head = this.addModule('head', new Linear(384, 1000));

  forward(x: tf.Tensor): tf.Tensor {
    let h = tf.add(prependToken(this.patchEmbed.forward(x), this.clsToken), this.posEmbed);
    for (const b of this.blocks) h = b.forward(h);
    const cls = tf.slice(this.norm.forward(h), [0, 0, 0], [h.shape[0]!, 1, 384]);
    return this.head.forward(tf.reshape(cls, [h.shape[0]!, 384]));
  }
}

const batch = Number(process.argv[2] ?? 8);
const repeats = Number(process.argv[3] ?? 3);
const info = await initBackend({ quiet: true });
console.log(`backend ${info.backend} (${info.provider}), batch ${batch}, ${repeats} timed forwards each after one warm-up`);

const models = { cswin_tiny_224: createModel('cswin_tiny_224').eval(), vit_small_patch16_224: new VitSmall().eval() };
const x = tf.randomNormal([batch, 224, 224, 3]);
const times: Record<string, number[]> = { cswin_tiny_224: [], vit_small_patch16_224: [] };
const once = (m: Layer) => {
  const t0 = performance.now();
  tf.tidy(() => m.forward(x).dataSync());
  return performance.now() - t0;
};
for (const m of Object.values(models)) once(m);
for (let r = 0; r < repeats; r++) for (const [name, m] of Object.entries(models)) times[name]!.push(once(m));
// The machine may be shared: the fastest run is the least disturbed one, so it is reported beside the median.
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const best = (a: number[]) => Math.min(...a);
for (const [name, t] of Object.entries(times)) {
  const runs = t.map((v) => (v / 1000).toFixed(2)).join(', ');
  console.log(`${name.padEnd(22)} best ${(best(t) / 1000).toFixed(2)} s (${(batch / (best(t) / 1000)).toFixed(2)} img/s), median ${(median(t) / 1000).toFixed(2)} s; runs ${runs} s`);
}
const [c, v] = [times['cswin_tiny_224']!, times['vit_small_patch16_224']!];
console.log(`cswin/vit: best ${(best(c) / best(v)).toFixed(2)}, median ${(median(c) / median(v)).toFixed(2)}`);

if (process.env['PROFILE']) {
  const p = await tf.profile(() => tf.tidy(() => models.cswin_tiny_224.forward(x).dataSync()) as unknown as tf.Tensor);
  const byKernel = new Map<string, number>();
  for (const k of p.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  console.log(`cswin kernels, total ${total.toFixed(0)} ms:`);
  for (const [k, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${k.padEnd(24)} ${ms.toFixed(0)} ms ${((100 * ms) / total).toFixed(0)}%`);
}
