// The one progress reporter: a redrawn bar on a terminal, plain lines at an
// interval otherwise (logs, CI). Isomorphic: it writes through a callback.

export interface StepProgress {
  epoch: number;
  epochs: number;
  /** Batches done in this epoch. */
  batch: number;
  batchesPerEpoch: number;
  step: number;
  totalSteps: number;
  /** Smoothed training loss. */
  loss: number;
  lr: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

export interface EpochSummary {
  /** 0-based epoch that just finished. */
  epoch: number;
  trainLoss: number;
  evalLoss?: number;
  top1?: number;
  top5?: number;
  /** Training images per second over the epoch. */
  imagesPerSecond: number;
  seconds: number;
}

export interface ProgressReporter {
  step(p: StepProgress): void;
  epoch(s: EpochSummary): void;
  note(line: string): void;
}

export interface TextProgressOptions {
  write: (text: string) => void;
  /** Redraw one line in place (a terminal) instead of printing lines. */
  tty: boolean;
  /** Seconds between plain lines (default 10). */
  intervalSeconds?: number;
}

export class TextProgress implements ProgressReporter {
  private lastLine = 0;
  private drawn = false;

  constructor(private readonly options: TextProgressOptions) {}

  step(p: StepProgress): void {
    const text = `epoch ${p.epoch + 1}/${p.epochs} ${bar(p.batch / p.batchesPerEpoch)} ${p.batch}/${p.batchesPerEpoch}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  ${p.imagesPerSecond.toFixed(0)} img/s  eta ${duration(p.etaSeconds)}`;
    this.draw(text, p.batch === p.batchesPerEpoch);
  }

  /** `done` of `total` bytes of a transfer (a download); the line stays once the transfer completes. */
  transfer(label: string, done: number, total: number): void {
    const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
    const finished = done >= total;
    this.draw(`${label} ${bar(done / total)} ${mb(done)}/${mb(total)} MB`, finished);
    if (finished && this.drawn) {
      this.options.write('\n');
      this.drawn = false;
    }
  }

  epoch(s: EpochSummary): void {
    const evalPart = s.top1 === undefined ? '' : `  eval loss ${s.evalLoss?.toFixed(4)}  top-1 ${pct(s.top1)}  top-5 ${pct(s.top5 ?? 0)}`;
    this.note(
      `epoch ${s.epoch + 1}: train loss ${s.trainLoss.toFixed(4)}${evalPart}  (${s.imagesPerSecond.toFixed(0)} img/s, ${duration(s.seconds)})`,
    );
  }

  note(line: string): void {
    this.clear();
    this.options.write(`${line}\n`);
  }

  /** Redraws `text` on a terminal; elsewhere prints it at the interval, and always when `last`. */
  private draw(text: string, last: boolean): void {
    if (this.options.tty) {
      this.options.write(`\r\x1b[K${text}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    const every = (this.options.intervalSeconds ?? 10) * 1000;
    if (now - this.lastLine >= every || last) {
      this.lastLine = now;
      this.options.write(`${text}\n`);
    }
  }

  private clear(): void {
    if (this.drawn) this.options.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** Prints nothing (tests, embedding). */
export const silentProgress: ProgressReporter = { step() {}, epoch() {}, note() {} };

function bar(fraction: number, width = 24): string {
  const full = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}
