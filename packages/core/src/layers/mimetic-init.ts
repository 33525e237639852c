// Mimetic initialisation of self-attention (Trockman & Kolter, "Mimetic
// Initialization of Self-Attention Layers", ICML 2023). Trained ViTs have
// W_q W_k^T close to a positive multiple of the identity and W_v W_proj close to
// a negative one; starting there (plus noise) makes attention favour similar
// tokens - the same patch content, nearby positions - from the first step, which
// is what a small ViT trained briefly from scratch lacks. Each factor here is
// sqrt(beta) I + sqrt(alpha / dim) N(0, 1), so the products are beta I plus noise
// of scale alpha (the paper factors alpha Z + beta I by an SVD instead; tfjs has none).
import * as tf from '@tensorflow/tfjs-core';
import { initRng } from '../random.js';
import type { Module } from '../module.js';
import { MultiHeadSelfAttention } from './attention.js';

export interface MimeticInit {
  /** Noise and identity weight of W_q W_k^T (the paper uses 0.7 and 0.7 for ViTs). */
  qkAlpha: number;
  qkBeta: number;
  /** Noise and identity weight of W_v W_proj, whose identity part is negative (0.4 and 0.4). */
  voAlpha: number;
  voBeta: number;
}

export const MIMETIC_VIT: MimeticInit = { qkAlpha: 0.7, qkBeta: 0.7, voAlpha: 0.4, voBeta: 0.4 };

/** sign * sqrt(beta) I + sqrt(alpha / dim) N(0, 1), a [dim, dim] factor. */
function nearIdentity(dim: number, alpha: number, beta: number, sign: 1 | -1): tf.Tensor2D {
  return tf.tidy(() =>
    tf.add(
      tf.mul(tf.eye(dim), sign * Math.sqrt(beta)),
      tf.randomNormal([dim, dim], 0, Math.sqrt(alpha / dim), 'float32', initRng.nextSeed()),
    ),
  );
}

/** Re-initialises the qkv and proj weights of every self-attention in `model` mimetically (biases stay as they are). */
export function mimeticInit(model: Module, init: MimeticInit = MIMETIC_VIT): void {
  for (const [, m] of model.namedModules()) if (m instanceof MultiHeadSelfAttention) mimeticInitAttention(m, init);
}

function mimeticInitAttention(attn: MultiHeadSelfAttention, init: MimeticInit): void {
  const d = attn.dim;
  // Weights are stored [in, out]: the q, k and v columns side by side.
  const qkv = tf.tidy(() =>
    tf.concat(
      [
        nearIdentity(d, init.qkAlpha, init.qkBeta, 1),
        nearIdentity(d, init.qkAlpha, init.qkBeta, 1),
        nearIdentity(d, init.voAlpha, init.voBeta, 1),
      ],
      1,
    ),
  );
  const proj = nearIdentity(d, init.voAlpha, init.voBeta, -1);
  attn.qkv.weight.assign(qkv);
  attn.proj.weight.assign(proj);
  tf.dispose([qkv, proj]);
}
