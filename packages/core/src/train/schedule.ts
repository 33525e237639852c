// Learning-rate schedules, evaluated per optimizer step (timm's
// `t_in_epochs=False`): `lr(step)` is the rate for the update numbered `step`
// (0-based).

export type LrSchedule = (step: number) => number;

export interface WarmupCosineOptions {
  baseLr: number;
  totalSteps: number;
  /** Steps of linear warm-up: step s < warmupSteps uses baseLr * (s + 1) / warmupSteps. */
  warmupSteps?: number;
  /** Floor of the cosine. */
  minLr?: number;
}

/**
 * Linear warm-up to baseLr, then half a cosine from baseLr down to minLr over
 * the remaining steps: lr = minLr + (baseLr - minLr) * (1 + cos(pi * p)) / 2
 * with p = (s - warmupSteps) / (totalSteps - warmupSteps).
 */
export function warmupCosine(options: WarmupCosineOptions): LrSchedule {
  const { baseLr, totalSteps } = options;
  const warmup = Math.min(options.warmupSteps ?? 0, totalSteps);
  const minLr = options.minLr ?? 0;
  const decaySteps = Math.max(totalSteps - warmup, 1);
  return (step) => {
    if (step < warmup) return (baseLr * (step + 1)) / warmup;
    const p = Math.min((step - warmup) / decaySteps, 1);
    return minLr + ((baseLr - minLr) * (1 + Math.cos(Math.PI * p))) / 2;
  };
}

export function constantLr(lr: number): LrSchedule {
  return () => lr;
}
