// The bridge to pycls (facebookresearch/pycls, pycls/models/vit.py): builds a
// StemViT from the `params` dict pycls' ViT takes, renames pycls checkpoints,
// and lays the intermediates out as pycls' sub-modules emit them (tokens
// sequence-first [N, B, C], the stem's map NCHW).
import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier, ReferenceAdapter, StateDict } from '@vitkit/core';
import { fromPyclsStateDict } from './pycls-checkpoint.js';
import { type StemSpec, StemViT } from './stem-vision-transformer.js';

const KNOWN = [
  'image_size',
  'patch_size',
  'stem_type',
  'c_stem_kernels',
  'c_stem_strides',
  'c_stem_dims',
  'n_layers',
  'n_heads',
  'hidden_d',
  'mlp_d',
  'cls_type',
  'num_classes',
] as const;

function int(args: Record<string, unknown>, key: string): number {
  const v = args[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new Error(`pycls ViT: '${key}' must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function intList(args: Record<string, unknown>, key: string): number[] {
  const v = args[key];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0)) {
    throw new Error(`pycls ViT: '${key}' must be a non-empty list of positive integers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

/** The model pycls' `ViT(params)` builds, with pycls' own checks (check_params). */
export function fromPyclsParams(args: Record<string, unknown>): StemViT {
  const unknown = Object.keys(args).filter((k) => !(KNOWN as readonly string[]).includes(k));
  if (unknown.length) {
    throw new Error(
      `pycls ViT: unknown argument${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${KNOWN.join(', ')})`,
    );
  }
  const imageSize = int(args, 'image_size');
  const patchSize = int(args, 'patch_size');
  const hidden = int(args, 'hidden_d');
  if (imageSize % patchSize !== 0) throw new Error(`pycls ViT: 'image_size' ${imageSize} is not divisible by 'patch_size' ${patchSize}`);
  const clsType = args['cls_type'] ?? 'token';
  if (clsType !== 'token' && clsType !== 'pooled')
    throw new Error(`pycls ViT: 'cls_type' must be 'token' or 'pooled', got ${JSON.stringify(clsType)}`);

  let stem: StemSpec;
  const stemType = args['stem_type'];
  if (stemType === 'patchify') {
    stem = { type: 'patchify', patchSize };
  } else if (stemType === 'conv') {
    const kernels = intList(args, 'c_stem_kernels');
    const strides = intList(args, 'c_stem_strides');
    const dims = intList(args, 'c_stem_dims');
    if (kernels.length !== strides.length || strides.length !== dims.length) {
      throw new Error(
        `pycls ViT: 'c_stem_kernels', 'c_stem_strides' and 'c_stem_dims' differ in length (${kernels.length}, ${strides.length}, ${dims.length})`,
      );
    }
    const total = strides.reduce((a, s) => a * s, 1);
    if (total !== patchSize) throw new Error(`pycls ViT: 'c_stem_strides' multiply to ${total}, not 'patch_size' ${patchSize}`);
    if (dims[dims.length - 1] !== hidden)
      throw new Error(`pycls ViT: the last of 'c_stem_dims' is ${dims[dims.length - 1]}, not 'hidden_d' ${hidden}`);
    const last = kernels.length - 1;
    // pycls builds every conv but the last with a 3x3 kernel whatever c_stem_kernels
    // says (ViTStemConv passes a literal 3); its checkpoints follow, so we do too.
    stem = { type: 'conv', kernels: kernels.map((k, i) => (i < last ? 3 : k)), strides, dims };
  } else {
    throw new Error(`pycls ViT: 'stem_type' must be 'patchify' or 'conv', got ${JSON.stringify(stemType)}`);
  }
  return new StemViT({
    imgSize: imageSize,
    inChannels: 3,
    numClasses: int(args, 'num_classes'),
    stem,
    embedDim: hidden,
    depth: int(args, 'n_layers'),
    numHeads: int(args, 'n_heads'),
    mlpHidden: int(args, 'mlp_d'),
    classifier: clsType,
  });
}

/** [B, N, C] -> pycls' sequence-first [N, B, C]. */
const seqFirst = (t: tf.Tensor) => tf.transpose(t, [1, 0, 2]);

export const pyclsReferenceAdapter: ReferenceAdapter = {
  family: 'hybrid-stem',
  reference: 'pycls',
  fromReferenceConfig: fromPyclsParams,
  convertStateDict: (sd: StateDict) => fromPyclsStateDict(sd),
  forwardWithIntermediates(model: ImageClassifier, x: tf.Tensor4D) {
    if (!(model instanceof StemViT)) throw new Error('hybrid-stem adapter: the model is not a StemViT');
    const stages = model.forwardStages(x);
    const [gh, gw] = model.grid;
    const b = x.shape[0];
    const intermediates: Record<string, tf.Tensor> = {
      stem: tf.transpose(tf.reshape(stages.stem, [b, gh, gw, model.options.embedDim]), [0, 3, 1, 2]),
      'encoder.ln': seqFirst(stages.norm),
      head: stages.logits,
      'head.head_fc': stages.logits,
    };
    stages.blocks.forEach((t, i) => {
      intermediates[`encoder.block_${i}`] = seqFirst(t);
    });
    return { logits: stages.logits, intermediates };
  },
};
