// softmax(q k^T * scale) v as one custom-gradient op. Through tfjs's autograd
// the scale, both products and the softmax are separate tape nodes, and
// tfjs-core keeps every node's output gradient (the [B, H, N, N] ones among
// them) until the backward pass ends. Here the forward runs with the tape off,
// saves qs = q * scale, k, v and the probabilities P, and the backward is written out:
//   dV = P^T dO,  dP = dO V^T,  dS = P (dP - rowsum(dP P)),
//   dQs = dS K,  dQ = dQs scale,  dK = dS^T Qs,  dScale = sum(dQs Qs) / scale.
// The products are tf.matMul with transpose flags: on WebAssembly vitkit's
// BatchMatMul kernel (wasm-batch-matmul.ts) runs them on XNNPACK.
import * as tf from '@tensorflow/tfjs-core';

/** Added to the diagonal logits that locality self-attention masks: exp() of it is 0 in float32. */
const MASKED = -1e9;

export interface AttentionCoreOptions {
  /** Multiplies q k^T: a number, or a tensor of one element (a learned scale, which gets its gradient). */
  scale: number | tf.Tensor;
  /** Also return the probabilities P [..., M, N] (a tensor of the caller's scope). */
  keepProbabilities?: boolean;
  /** No token attends to itself (locality self-attention, Lee et al. 2021); needs M = N. */
  maskDiagonal?: boolean;
}

/** [n, n] with MASKED on the diagonal and 0 elsewhere: added to logits, it masks each token's attention to itself. */
export function diagonalMask(n: number): tf.Tensor2D {
  return tf.mul(tf.eye(n), MASKED);
}

/** q [..., M, D], k and v [..., N, D] (same leading dims) -> [..., M, D]. */
export function attentionCore(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: AttentionCoreOptions,
): { out: tf.Tensor; probabilities?: tf.Tensor } {
  const { scale, keepProbabilities = false, maskDiagonal = false } = options;
  const learned = typeof scale !== 'number';
  if (maskDiagonal && q.shape[q.rank - 2] !== k.shape[k.rank - 2]) {
    throw new Error(
      `attention: masking the diagonal needs as many queries as keys (got ${q.shape[q.rank - 2]} and ${k.shape[k.rank - 2]})`,
    );
  }
  // customGrad returns one tensor, so the probabilities leave the forward's tidy as a kept tensor.
  const capture: { probabilities?: tf.Tensor } = {};
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [qt, kt, vt, st] = args as tf.Tensor[];
    // The same operations as the plain composition, so the forward is bit-identical.
    const qs = tf.mul(qt!, learned ? st! : (scale as number));
    let logits = tf.matMul(qs, kt!, false, true);
    if (maskDiagonal) logits = tf.add(logits, diagonalMask(logits.shape[logits.rank - 1]!));
    const p = tf.softmax(logits, -1);
    save(learned ? [qs, kt!, vt!, p, st!] : [qs, kt!, vt!, p]);
    if (keepProbabilities) capture.probabilities = tf.keep(p);
    return {
      value: tf.matMul(p, vt!),
      // tfjs runs a custom gradient in the scope of the whole backward pass: tidy, or its temporaries live until the end.
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [qss, ks, vs, ps, ss] = saved as tf.Tensor[];
          const dOut = dy as tf.Tensor;
          const dv = tf.matMul(ps!, dOut, true, false);
          const dp = tf.matMul(dOut, vs!, false, true);
          const ds = tf.mul(ps!, tf.sub(dp, tf.sum(tf.mul(dp, ps!), -1, true)));
          const dqs = tf.matMul(ds, ks!);
          const dk = tf.matMul(ds, qss!, true, false);
          if (!learned) return [tf.mul(dqs, scale as number), dk, dv];
          const dScale = tf.reshape(tf.div(tf.sum(tf.mul(dqs, qss!)), ss!), ss!.shape);
          return [tf.mul(dqs, ss!), dk, dv, dScale];
        }),
    };
  }) as (...xs: tf.Tensor[]) => tf.Tensor;
  const out = learned ? op(q, k, v, scale) : op(q, k, v);
  if (!capture.probabilities) return { out };
  const probabilities = tf.clone(capture.probabilities);
  capture.probabilities.dispose();
  return { out, probabilities };
}
