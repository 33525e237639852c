// A small PyTorch-like module system over tfjs-core: named children, parameters
// and buffers with dotted names that mirror the reference checkpoints
// (`blocks.3.attn.qkv.weight`), train/eval modes, and state dicts in PyTorch
// layout so foreign weights load by name.
import * as tf from '@tensorflow/tfjs-core';
import { fromTorchLayout, type Layout, torchShape, toTorchLayout } from './layout.js';

/** Tensors by dotted name, in PyTorch layout. */
export type StateDict = Record<string, tf.Tensor>;

interface Slot {
  variable: tf.Variable;
  layout: Layout;
}

export interface LoadReport {
  missing: string[];
  unexpected: string[];
  /** Keys whose shape differs: `name: got [..], expected [..]`. */
  mismatched: string[];
}

/** Thrown by strict loading; lists every problem at once. */
export class StateDictError extends Error {
  /**
   * `shapes` gives the PyTorch shape to print beside a key: the model's for a
   * missing key, the checkpoint's for an unexpected one.
   */
  constructor(
    readonly report: LoadReport,
    context = 'state dict',
    shapes: Record<string, readonly number[]> = {},
  ) {
    const shaped = (key: string) => (shapes[key] ? `${key} [${shapes[key].join(', ')}]` : key);
    const parts: string[] = [];
    if (report.missing.length) parts.push(`missing keys (${report.missing.length}): ${report.missing.map(shaped).join(', ')}`);
    if (report.unexpected.length) parts.push(`unexpected keys (${report.unexpected.length}): ${report.unexpected.map(shaped).join(', ')}`);
    if (report.mismatched.length) parts.push(`mis-shaped keys (${report.mismatched.length}): ${report.mismatched.join('; ')}`);
    super(`${context} does not match the model:\n  ${parts.join('\n  ')}`);
    this.name = 'StateDictError';
  }
}

export class Module {
  /** Dropout, DropPath and BatchNorm behave differently in training. */
  training = true;
  private readonly paramSlots = new Map<string, Slot>();
  private readonly bufferSlots = new Map<string, Slot>();
  private readonly childModules = new Map<string, Module>();

  /** Registers a trainable parameter; takes ownership of `init`. */
  protected addParameter(name: string, init: tf.Tensor, layout: Layout = 'plain'): tf.Variable {
    this.assertFreeName(name);
    const variable = tf.variable(init, true);
    init.dispose();
    this.paramSlots.set(name, { variable, layout });
    return variable;
  }

  /** Registers a non-trainable tensor saved with the state (BatchNorm's running statistics). */
  protected addBuffer(name: string, init: tf.Tensor): tf.Variable {
    this.assertFreeName(name);
    const variable = tf.variable(init, false);
    init.dispose();
    this.bufferSlots.set(name, { variable, layout: 'plain' });
    return variable;
  }

  protected addModule<M extends Module>(name: string, module: M): M {
    this.assertFreeName(name);
    this.childModules.set(name, module);
    return module;
  }

  /** Swaps the child registered as `name` (a new classifier head, say); returns the old one for the caller to dispose. */
  protected replaceModule(name: string, module: Module): Module {
    const previous = this.childModules.get(name);
    if (!previous) throw new Error(`${this.constructor.name} has no child '${name}' to replace`);
    this.childModules.set(name, module);
    return previous;
  }

  private assertFreeName(name: string): void {
    if (this.paramSlots.has(name) || this.bufferSlots.has(name) || this.childModules.has(name)) {
      throw new Error(`${this.constructor.name}: '${name}' is registered twice`);
    }
  }

  /** Direct children, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.childModules];
  }

  /** This module and every descendant with its dotted path ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.childModules) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  /** The descendant at a dotted path, e.g. `blocks.0.attn`. */
  getSubmodule(path: string): Module {
    let m: Module = this;
    for (const part of path === '' ? [] : path.split('.')) {
      const next = m.childModules.get(part);
      if (!next) throw new Error(`${this.constructor.name} has no submodule '${path}' (at '${part}')`);
      m = next;
    }
    return m;
  }

  namedParameters(): [string, tf.Variable][] {
    return this.slots('param').map(([n, s]) => [n, s.variable]);
  }

  namedBuffers(): [string, tf.Variable][] {
    return this.slots('buffer').map(([n, s]) => [n, s.variable]);
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /** Number of trainable scalars. */
  numParams(): number {
    return this.parameters().reduce((n, v) => n + v.size, 0);
  }

  /** Parameter and buffer slots with their layouts, in a stable order (params first, like PyTorch). */
  private slots(kind: 'param' | 'buffer' | 'all', prefix = ''): [string, Slot][] {
    const out: [string, Slot][] = [];
    if (kind !== 'buffer') for (const [n, s] of this.paramSlots) out.push([join(prefix, n), s]);
    if (kind !== 'param') for (const [n, s] of this.bufferSlots) out.push([join(prefix, n), s]);
    for (const [name, child] of this.childModules) out.push(...child.slots(kind, join(prefix, name)));
    return out;
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Every parameter and buffer in PyTorch layout; the caller owns (and disposes) the tensors. */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [name, s] of this.slots('all')) sd[name] = toTorchLayout(s.variable, s.layout);
    return sd;
  }

  /** PyTorch shapes of every entry of the state dict, without copying anything. */
  stateShapes(): Record<string, number[]> {
    return Object.fromEntries(this.slots('all').map(([n, s]) => [n, torchShape(s.variable.shape, s.layout)]));
  }

  /** The keys of `sd` that are missing, unexpected or mis-shaped for this model; changes nothing. */
  checkStateDict(sd: StateDict): LoadReport {
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
    const slots = new Map(this.slots('all'));
    for (const [name, slot] of slots) {
      const t = sd[name];
      if (!t) {
        report.missing.push(name);
        continue;
      }
      const expected = torchShape(slot.variable.shape, slot.layout);
      if (!sameShape(t.shape, expected)) report.mismatched.push(`${name}: got [${t.shape.join(', ')}], expected [${expected.join(', ')}]`);
    }
    for (const name of Object.keys(sd)) if (!slots.has(name)) report.unexpected.push(name);
    return report;
  }

  /**
   * Copies a PyTorch-layout state dict into the model. With `strict` (the default)
   * any missing, unexpected or mis-shaped key throws one StateDictError listing all
   * of them, before anything is changed. Non-strict loading fills what matches and
   * reports the rest. The caller keeps ownership of `sd`.
   */
  loadStateDict(sd: StateDict, options: { strict?: boolean; context?: string } = {}): LoadReport {
    const report = this.checkStateDict(sd);
    const problems = report.missing.length + report.unexpected.length + report.mismatched.length;
    if ((options.strict ?? true) && problems > 0) {
      const shapes = this.stateShapes();
      const unexpected = Object.fromEntries(report.unexpected.map((k) => [k, sd[k]!.shape]));
      throw new StateDictError(report, options.context, { ...shapes, ...unexpected });
    }
    for (const [name, slot] of this.slots('all')) {
      const t = sd[name];
      if (!t || !sameShape(t.shape, torchShape(slot.variable.shape, slot.layout))) continue;
      tf.tidy(() => {
        const value = fromTorchLayout(t, slot.layout, slot.variable.shape);
        slot.variable.assign(value.dtype === slot.variable.dtype ? value : tf.cast(value, slot.variable.dtype));
      });
    }
    return report;
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, s] of this.slots('all')) s.variable.dispose();
  }
}

/** Children addressed by index (`blocks.0`, `blocks.1`, ...), as torch.nn.ModuleList. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[] = [];

  constructor(items: Iterable<M> = []) {
    super();
    for (const m of items) this.push(m);
  }

  push(m: M): M {
    this.addModule(String(this.items.length), m);
    this.items.push(m);
    return m;
  }

  get length(): number {
    return this.items.length;
  }
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
