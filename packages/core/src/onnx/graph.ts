// An ONNX graph as plain data (nodes, float32 and int64 initializers, value
// names), built by the modules' own lowerings and encoded to protobuf
// elsewhere (@vitkit/bench), so this file stays isomorphic. Every module that
// can be exported has a `toOnnx(scope, x)` beside its forward; a scope knows
// the module's dotted path, names its initializers by it (`blocks.3.attn.qkv.weight`)
// and names the layer in every error.
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../module.js';

export type OnnxAttribute =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

export const onnxAttr = {
  int: (value: number): OnnxAttribute => ({ kind: 'int', value }),
  float: (value: number): OnnxAttribute => ({ kind: 'float', value }),
  ints: (value: number[]): OnnxAttribute => ({ kind: 'ints', value }),
  floats: (value: number[]): OnnxAttribute => ({ kind: 'floats', value }),
  string: (value: string): OnnxAttribute => ({ kind: 'string', value }),
};

export interface OnnxNode {
  opType: string;
  /** '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: Record<string, OnnxAttribute>;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A float32 graph input or output; a string dimension is symbolic (a dynamic batch). */
export interface OnnxValueInfo {
  name: string;
  dims: (number | string)[];
}

export interface OnnxModel {
  /** The default ONNX domain's opset version. */
  opset: number;
  graphName: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  /** The model's metadata_props. */
  metadata: Record<string, string>;
}

/** A layer that cannot be lowered (or not with its options): the message starts with its path. */
export class OnnxExportError extends Error {
  constructor(
    readonly layer: string,
    why: string,
  ) {
    super(`${layer}: ${why}`);
    this.name = 'OnnxExportError';
  }
}

/** The nodes and initializers of one graph under construction, with unique value names. */
export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private readonly taken = new Set<string>();
  /** The constants added so far by dtype, dims and a hash of their bytes (more than one on a hash collision). */
  private readonly constants = new Map<string, { bytes: Uint8Array; name: string }[]>();
  private constantCount = 0;

  constructor(readonly opset: number) {}

  /** `base`, or `base_2`, `base_3`, ... when taken. */
  unique(base: string): string {
    let name = base;
    for (let i = 2; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  addNode(opType: string, inputs: string[], outputs: number, attributes: Record<string, OnnxAttribute>, prefix: string): string[] {
    const name = this.unique(prefix ? `${prefix}/${opType}` : opType);
    const outs = Array.from({ length: outputs }, (_, i) => this.unique(outputs === 1 ? `${name}:0` : `${name}:${i}`));
    this.nodes.push({ opType, inputs, outputs: outs, name, attributes });
    return outs;
  }

  addInitializer(name: string, data: Float32Array | BigInt64Array, dims: number[]): string {
    const size = dims.reduce((a, d) => a * d, 1);
    if (data.length !== size) throw new Error(`ONNX initializer ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims, data });
    return unique;
  }

  /**
   * A constant initializer added once per graph: a later call with the same
   * type, dims and values gets the first one's name, so every layer that needs
   * it (a shape, an axis, a unit scale of one size) shares it. `name` names it
   * when it is new. For values a lowering makes, not for parameters: a
   * parameter keeps an initializer of its own name even where its values equal
   * another's.
   */
  constant(name: string, data: Float32Array | BigInt64Array, dims: number[]): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const key = `${data instanceof Float32Array ? 'f32' : 'i64'}[${dims.join(',')}]#${fnv1a(bytes)}`;
    const same = this.constants.get(key) ?? [];
    const found = same.find((c) => equalBytes(c.bytes, bytes));
    if (found) return found.name;
    const added = this.addInitializer(name, data, dims);
    same.push({ bytes, name: added });
    this.constants.set(key, same);
    this.constantCount++;
    return added;
  }

  /** A shared int64 constant (shapes, axes, split sizes). */
  int64s(values: number[]): string {
    const name = `const_i64_${values.join('_').replace(/-/g, 'm')}`;
    return this.constant(name, BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  /** A shared int64 scalar constant (a Gather index). */
  int64Scalar(value: number): string {
    return this.constant(`const_i64_scalar_${value}`, BigInt64Array.of(BigInt(value)), []);
  }

  /** A shared float32 scalar constant. */
  scalar(value: number): string {
    return this.constant(`const_f32_${this.constantCount}`, Float32Array.of(value), []);
  }
}

/** FNV-1a over bytes: the bucket of a constant (the bytes themselves decide equality). */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What an exportable module adds beside its forward: its part of the graph, from input value(s) to output value(s). */
export interface OnnxLowering<I = string, O = string> {
  toOnnx(g: OnnxScope, x: I): O;
}

/** `Module.toOnnx` where the module has one. */
function loweringOf<I, O>(module: Module): OnnxLowering<I, O> | null {
  const m = module as Partial<OnnxLowering<I, O>>;
  return typeof m.toOnnx === 'function' ? (m as OnnxLowering<I, O>) : null;
}

/**
 * A module's view of the graph: ops and initializers named by its path, its
 * children lowered in their own scopes, errors naming it.
 */
export class OnnxScope {
  constructor(
    readonly graph: OnnxGraph,
    /** Dotted module path ('' for the model). */
    readonly path: string,
    /** Shown for the model itself (its class name). */
    private readonly rootName = 'model',
  ) {}

  get opset(): number {
    return this.graph.opset;
  }

  /** The scope of the child `name`. */
  at(name: string): OnnxScope {
    return new OnnxScope(this.graph, this.path ? `${this.path}.${name}` : name, this.rootName);
  }

  /** Lowers the child `name` (a registered child of this module) in its own scope. */
  lower<I = string, O = string>(name: string, child: Module, x: I): O {
    const scope = this.at(name);
    const lowering = loweringOf<I, O>(child);
    if (!lowering) return scope.fail(`${child.constructor.name} has no ONNX lowering, so it cannot be exported`);
    return lowering.toOnnx(scope, x);
  }

  /** Throws an OnnxExportError naming this layer. */
  fail(why: string): never {
    throw new OnnxExportError(this.path || this.rootName, why);
  }

  op(opType: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}): string {
    return this.graph.addNode(opType, inputs, 1, attributes, this.path)[0]!;
  }

  ops(opType: string, inputs: string[], outputs: number, attributes: Record<string, OnnxAttribute> = {}): string[] {
    return this.graph.addNode(opType, inputs, outputs, attributes, this.path);
  }

  /** An initializer named `<path>.<name>`. */
  initializer(name: string, data: Float32Array, dims: number[]): string {
    return this.graph.addInitializer(this.path ? `${this.path}.${name}` : name, data, dims);
  }

  /** A parameter's values as an initializer of its own (tfjs) shape. */
  parameter(name: string, t: tf.Tensor): string {
    return this.initializer(name, readFloats(t), [...t.shape]);
  }

  /** A constant shared across the graph (see OnnxGraph.constant); `name` is not scoped, as other layers may use it too. */
  constant(name: string, data: Float32Array | BigInt64Array, dims: number[]): string {
    return this.graph.constant(name, data, dims);
  }

  int64s(values: number[]): string {
    return this.graph.int64s(values);
  }

  scalar(value: number): string {
    return this.graph.scalar(value);
  }

  /** Reshape; 0 copies the input's dimension (the batch), -1 is inferred, so one graph serves any batch. */
  reshape(x: string, shape: number[]): string {
    return this.op('Reshape', [x, this.int64s(shape)]);
  }

  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x], { perm: onnxAttr.ints(perm) });
  }

  /** x[..., start:end, ...] on one axis. */
  slice(x: string, axis: number, start: number, end: number): string {
    return this.op('Slice', [x, this.int64s([start]), this.int64s([end]), this.int64s([axis])]);
  }

  /** x[:, index] (the axis removed), e.g. the class token of [B, N, C]. */
  gather(x: string, axis: number, index: number): string {
    return this.op('Gather', [x, this.graph.int64Scalar(index)], { axis: onnxAttr.int(axis) });
  }

  /** A [1, ..., C] parameter repeated over the batch of `like` ([B, ...]): `dims` is its shape after the batch. */
  expandToBatch(value: string, like: string, dims: number[]): string {
    const batch = this.op('Shape', [like], { start: onnxAttr.int(0), end: onnxAttr.int(1) });
    return this.op('Expand', [value, this.concat([batch, this.int64s(dims)], 0)]);
  }

  /** Equal or given parts along `axis` (split sizes as an input: valid in every opset from 13). */
  split(x: string, axis: number, sizes: number[]): string[] {
    return this.ops('Split', [x, this.int64s(sizes)], sizes.length, { axis: onnxAttr.int(axis) });
  }

  concat(xs: string[], axis: number): string {
    return this.op('Concat', xs, { axis: onnxAttr.int(axis) });
  }

  /** Mean over `axes`, keeping none of them (the axes moved from attribute to input in opset 18). */
  reduceMean(x: string, axes: number[]): string {
    if (this.opset >= 18) return this.op('ReduceMean', [x, this.int64s(axes)], { keepdims: onnxAttr.int(0) });
    return this.op('ReduceMean', [x], { axes: onnxAttr.ints(axes), keepdims: onnxAttr.int(0) });
  }

  /** x W (+ b) over the last axis, W given as [in, out] values. */
  matmulAdd(x: string, name: string, weight: Float32Array, dims: [number, number], bias: Float32Array | null): string {
    const y = this.op('MatMul', [x, this.initializer(`${name}weight`, weight, dims)]);
    return bias ? this.op('Add', [y, this.initializer(`${name}bias`, bias, [dims[1]])]) : y;
  }

  /** Exact GELU: the opset's Gelu where it has one (20), else x * 0.5 * (1 + erf(x / sqrt 2)). */
  gelu(x: string): string {
    if (this.opset >= 20) return this.op('Gelu', [x]);
    const erf = this.op('Erf', [this.op('Div', [x, this.scalar(Math.SQRT2)])]);
    return this.op('Mul', [this.op('Mul', [x, this.op('Add', [erf, this.scalar(1)])]), this.scalar(0.5)]);
  }

  /**
   * softmax(q k^T) v for q [.., M, D], kT [.., D, N], v [.., N, D], the scale
   * already folded into q's projection.
   */
  attention(q: string, kT: string, v: string): string {
    return this.op('MatMul', [this.op('Softmax', [this.op('MatMul', [q, kT])], { axis: onnxAttr.int(-1) }), v]);
  }
}

/**
 * A fused qkv projection's [in, 3 * dim] weight and [3 * dim] bias as float
 * arrays, with the attention scale folded into q's `dim` columns, so the graph
 * needs no Mul on the logits.
 */
export function qkvWithScaledQuery(
  weight: tf.Tensor,
  bias: tf.Tensor | null,
  scale: number,
): { weight: Float32Array; bias: Float32Array | null } {
  const [rows, cols] = weight.shape as [number, number];
  const dim = cols / 3;
  const w = readFloats(weight);
  for (let i = 0; i < rows; i++) for (let j = 0; j < dim; j++) w[i * cols + j]! *= scale;
  const b = bias ? readFloats(bias) : null;
  if (b) for (let j = 0; j < dim; j++) b[j]! *= scale;
  return { weight: w, bias: b };
}

/** A tensor's values as a float32 array of its own. */
export function readFloats(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`ONNX export: expected a float32 tensor, got ${t.dtype}`);
  return Float32Array.from(t.dataSync() as Float32Array);
}
