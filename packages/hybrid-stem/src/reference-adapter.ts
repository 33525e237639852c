// The bridge to pycls (facebookresearch/pycls, pycls/models/vit.py): builds the
// VisionTransformer that the `params` dict pycls' ViT takes describes, renames pycls checkpoints,
// and lays the intermediates out as pycls' sub-modules emit them (tokens
// sequence-first [N, B, C], the stem's map NCHW).
import * as tf from '@tensorflow/tfjs-core';
import { type ImageClassifier, type ReferenceAdapter, type StateDict, squarePositionEmbeddings } from '@vitkit/core';
import { fromPyclsStateDict } from './pycls-checkpoint.js';
import { VisionTransformer } from '@vitkit/vit';
import type { ConvStemConfig } from './conv-stem.js';
import { createPyclsViT, PYCLS_CLASSIFIERS, PYCLS_LN_EPS } from './pycls-vit.js';

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
export function fromPyclsParams(args: Record<string, unknown>): VisionTransformer {
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

  let stem: ConvStemConfig | null = null;
  const stemType = args['stem_type'];
  if (stemType === 'patchify') {
    stem = null;
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
    stem = { kernels: kernels.map((k, i) => (i < last ? 3 : k)), strides, dims };
  } else {
    throw new Error(`pycls ViT: 'stem_type' must be 'patchify' or 'conv', got ${JSON.stringify(stemType)}`);
  }
  return createPyclsViT({
    ...PYCLS_CLASSIFIERS[clsType],
    eps: PYCLS_LN_EPS,
    imgSize: imageSize,
    inChannels: 3,
    numClasses: int(args, 'num_classes'),
    patchSize,
    stem,
    embedDim: hidden,
    depth: int(args, 'n_layers'),
    numHeads: int(args, 'n_heads'),
    mlpHidden: int(args, 'mlp_d'),
  });
}

/** [B, N, C] -> pycls' sequence-first [N, B, C]. */
const seqFirst = (t: tf.Tensor) => tf.transpose(t, [1, 0, 2]);

export const pyclsReferenceAdapter: ReferenceAdapter = {
  family: 'hybrid-stem',
  reference: 'pycls',
  fromReferenceConfig: fromPyclsParams,
  convertStateDict: (sd: StateDict) => fromPyclsStateDict(sd),
  // pycls' images and token grids are square; a class token leads the embedding unless the classifier pools.
  positionEmbeddings: (model) => squarePositionEmbeddings(model, 'cls_token' in model.stateShapes() ? 1 : 0),
  forwardWithIntermediates(model: ImageClassifier, x: tf.Tensor4D) {
    if (!(model instanceof VisionTransformer)) throw new Error('hybrid-stem adapter: the model is not a VisionTransformer');
    const [gh, gw] = model.grid;
    const b = x.shape[0];
    const intermediates: Record<string, tf.Tensor> = {};
    const logits = model.forwardHead(
      model.forwardFeatures(x, (name, t) => {
        const block = /^blocks\.(\d+)$/.exec(name);
        if (name === 'patch_embed') intermediates['stem'] = tf.transpose(tf.reshape(t, [b, gh, gw, model.embedDim]), [0, 3, 1, 2]);
        else if (block) intermediates[`encoder.block_${block[1]}`] = seqFirst(t);
        else if (name === 'norm') intermediates['encoder.ln'] = seqFirst(t);
      }),
    );
    intermediates['head'] = logits;
    intermediates['head.head_fc'] = logits;
    return { logits, intermediates };
  },
};
