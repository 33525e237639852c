// A tiny ViT assembled from core layers, for training tests while no model
// package is needed: patch embedding, class token, position embedding,
// pre-norm blocks (with DropPath, so the dropout stream matters), head.
import * as tf from '@tensorflow/tfjs-core';
import {
  type Cost,
  ImageClassifier,
  LayerNorm,
  Linear,
  ModuleList,
  PatchEmbed,
  poolTokens,
  prependToken,
  TransformerBlock,
  truncNormal,
} from '@vitkit/core';

export class TinyVit extends ImageClassifier {
  readonly imgSize: [number, number];
  readonly patchEmbed: PatchEmbed;
  readonly clsToken: tf.Variable;
  readonly posEmbed: tf.Variable;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly norm: LayerNorm;
  readonly head: Linear;

  constructor(
    readonly numClasses = 10,
    options: { imgSize?: number; patch?: number; dim?: number; depth?: number; inChannels?: number; dropPath?: number } = {},
  ) {
    super();
    const size = options.imgSize ?? 32;
    const patch = options.patch ?? 8;
    const dim = options.dim ?? 32;
    this.imgSize = [size, size];
    this.patchEmbed = this.addModule('patch_embed', new PatchEmbed(patch, options.inChannels ?? 3, dim));
    this.clsToken = this.addParameter('cls_token', truncNormal([1, 1, dim]));
    this.posEmbed = this.addParameter('pos_embed', truncNormal([1, 1 + (size / patch) ** 2, dim]));
    const blocks = Array.from(
      { length: options.depth ?? 1 },
      () => new TransformerBlock(dim, { numHeads: 2, mlpRatio: 2, eps: 1e-6, dropPath: options.dropPath ?? 0 }),
    );
    this.blocks = this.addModule('blocks', new ModuleList(blocks));
    this.norm = this.addModule('norm', new LayerNorm(dim, 1e-6));
    this.head = this.addModule('head', new Linear(dim, numClasses));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let t = tf.add(prependToken(this.patchEmbed.forward(x), this.clsToken), this.posEmbed);
      for (const b of this.blocks.items) t = b.forward(t);
      return this.head.forward(poolTokens(this.norm.forward(t), 'token'));
    });
  }

  complexity(): Cost {
    return { params: this.numParams(), macs: 0 };
  }
}
