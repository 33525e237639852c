import type * as tf from '@tensorflow/tfjs-core';
import { Module } from '@vitkit/core';

/**
 * Parameters addressed by index, as torch.nn.ParameterList: the official
 * CrossViT keeps one class token and one position embedding per branch under
 * `cls_token.0`, `cls_token.1`, `pos_embed.0`, ...
 */
export class ParameterList extends Module {
  readonly items: tf.Variable[] = [];

  /** Registers `init` (taking ownership) as the next parameter. */
  push(init: tf.Tensor): tf.Variable {
    const v = this.addParameter(String(this.items.length), init);
    this.items.push(v);
    return v;
  }
}
