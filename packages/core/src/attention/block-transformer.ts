import type { ImageClassifier } from '../classifier.js';
import type { TransformerBlock } from '../layers/transformer-block.js';
import type { ModuleList } from '../module.js';

/**
 * A ViT-shaped classifier: prefix tokens (class, distillation) followed by a
 * patch grid, through a stack of TransformerBlocks: @vitkit/vit's
 * VisionTransformer, whatever its token embedder (the ViTC and ViTP of
 * @vitkit/hybrid-stem included). Their attention maps and rollout come from
 * the same code.
 */
export interface BlockTransformer extends ImageClassifier {
  readonly blocks: ModuleList<TransformerBlock>;
  /** Token grid [gh, gw] of the model's input size. */
  readonly grid: [number, number];
  readonly numPrefixTokens: number;
}
