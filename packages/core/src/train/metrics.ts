import * as tf from '@tensorflow/tfjs-core';

/** Running top-1 / top-5 accuracy and mean loss over batches. */
export class Accuracy {
  images = 0;
  private correct1 = 0;
  private correct5 = 0;
  private lossSum = 0;

  /** Counts a batch: logits [B, K], integer labels. */
  async update(logits: tf.Tensor, labels: ArrayLike<number>, loss?: number): Promise<void> {
    const [b, k] = logits.shape as [number, number];
    const [c1, c5] = await topKCorrect(logits, labels, [1, Math.min(5, k)]);
    this.correct1 += c1!;
    this.correct5 += c5!;
    if (loss !== undefined) this.lossSum += loss * b;
    this.images += b;
  }

  get top1(): number {
    return this.images ? this.correct1 / this.images : 0;
  }

  get top5(): number {
    return this.images ? this.correct5 / this.images : 0;
  }

  get loss(): number {
    return this.images ? this.lossSum / this.images : Number.NaN;
  }
}

/** How many rows of logits [B, K] have their label among the top k, for each k in `ks`. */
export async function topKCorrect(logits: tf.Tensor, labels: ArrayLike<number>, ks: number[]): Promise<number[]> {
  const [b] = logits.shape as [number, number];
  const kMax = Math.max(...ks);
  const indices = tf.tidy(() => tf.topk(logits, kMax).indices);
  const top = await indices.data();
  indices.dispose();
  return ks.map((k) => {
    let n = 0;
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < k; j++) {
        if (top[i * kMax + j] === labels[i]) {
          n++;
          break;
        }
      }
    }
    return n;
  });
}
