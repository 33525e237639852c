// exportOnnx: a model's module tree lowered to one ONNX graph (see graph.ts),
// input `pixel_values` NCHW float32, output `logits`, the weights as
// initializers and the registry's pretrained config in the metadata.
import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '../classifier.js';
import { registeredEntryOf } from '../registry.js';
import { type OnnxLowering, type OnnxModel, OnnxExportError, OnnxGraph, OnnxScope } from './graph.js';

/** Opsets the lowerings are written for: 17 brings LayerNormalization, 20 Gelu. */
export const ONNX_OPSETS = [17, 18, 19, 20, 21] as const;

export interface ExportOnnxOptions {
  /** Default ONNX domain opset (default 17). */
  opset?: number;
  /** A symbolic batch dimension ('batch') instead of a fixed one. */
  dynamicBatch?: boolean;
  /** The fixed batch size without dynamicBatch (default 1). */
  batchSize?: number;
}

/** A model that can be exported: its lowering from the NCHW image to logits, and its input channels. */
export interface OnnxExportable extends ImageClassifier, OnnxLowering {
  readonly inChannels: number;
}

export const ONNX_INPUT = 'pixel_values';
export const ONNX_OUTPUT = 'logits';

/**
 * Lowers an evaluation-mode model to ONNX: inference semantics (dropout off,
 * BatchNorm on its running statistics). A layer without a lowering, or with
 * options that have none, throws an OnnxExportError naming its path.
 */
export function exportOnnx(model: ImageClassifier, options: ExportOnnxOptions = {}): OnnxModel {
  const opset = options.opset ?? 17;
  if (!(ONNX_OPSETS as readonly number[]).includes(opset)) {
    throw new Error(`exportOnnx: opset ${opset} is not supported (${ONNX_OPSETS.join(', ')}; LayerNormalization needs 17)`);
  }
  const batchSize = options.batchSize ?? 1;
  if (!(Number.isInteger(batchSize) && batchSize >= 1))
    throw new Error(`exportOnnx: batchSize must be a positive whole number (got ${batchSize})`);
  const root = model.constructor.name;
  if (model.training) throw new OnnxExportError(root, 'the model is in training mode; call eval() before exporting');
  const exportable = model as unknown as Partial<OnnxExportable>;
  if (typeof exportable.toOnnx !== 'function' || typeof exportable.inChannels !== 'number') {
    throw new OnnxExportError(root, `${root} has no ONNX lowering, so it cannot be exported`);
  }
  const graph = new OnnxGraph(opset);
  graph.unique(ONNX_INPUT);
  const out = tf.tidy(() => exportable.toOnnx!(new OnnxScope(graph, '', root), ONNX_INPUT));
  nameOutput(graph, out);
  const [h, w] = model.imgSize;
  const batch = options.dynamicBatch ? 'batch' : batchSize;
  return {
    opset,
    graphName: registeredEntryOf(model)?.name ?? root,
    inputs: [{ name: ONNX_INPUT, dims: [batch, exportable.inChannels, h, w] }],
    outputs: [{ name: ONNX_OUTPUT, dims: [batch, model.numClasses] }],
    nodes: graph.nodes,
    initializers: graph.initializers,
    metadata: onnxMetadata(model, exportable.inChannels),
  };
}

/** Renames the value that carries the logits to `logits` (an Identity when it is the input itself). */
function nameOutput(graph: OnnxGraph, value: string): void {
  const producer = graph.nodes.find((n) => n.outputs.includes(value));
  if (!producer) {
    graph.nodes.push({ opType: 'Identity', inputs: [value], outputs: [ONNX_OUTPUT], name: 'output', attributes: {} });
    return;
  }
  producer.outputs = producer.outputs.map((o) => (o === value ? ONNX_OUTPUT : o));
  for (const node of graph.nodes) node.inputs = node.inputs.map((i) => (i === value ? ONNX_OUTPUT : i));
}

/** timm's pretrained_cfg fields as JSON (`pretrained_cfg`), and the architecture name when the model is registered. */
function onnxMetadata(model: ImageClassifier, inChannels: number): Record<string, string> {
  const entry = registeredEntryOf(model);
  const [h, w] = model.imgSize;
  const cfg: Record<string, unknown> = { input_size: [inChannels, h, w], num_classes: model.numClasses };
  if (entry) {
    const d = entry.defaults;
    Object.assign(cfg, {
      mean: d.mean,
      std: d.std,
      crop_pct: d.cropPct,
      interpolation: d.interpolation,
      crop_mode: d.cropMode ?? 'center',
    });
  }
  return {
    ...(entry ? { architecture: entry.name } : {}),
    pretrained_cfg: JSON.stringify(cfg),
    producer: 'vitkit',
  };
}
