// `vitkit export`: a registered model (and its weights) as an ONNX file for
// deployment: ONNX Runtime on servers and phones, onnxruntime-web, TensorRT.
import { exportOnnx, OnnxExportError, type OnnxModel, ONNX_OPSETS } from '@vitkit/core';
import { initBackend, writeFileAtomic } from '@vitkit/node';
import { InputError, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { loadCommandModel, MODEL_OPTION, NUM_CLASSES_OPTION } from '../model-loading.js';
import { encodeOnnx } from '../onnx/encode.js';

export const exportCommand = defineCommand({
  name: 'export',
  summary: 'write a model and its weights as an ONNX file (pixel_values NCHW in, logits out)',
  usage: 'vitkit export --model NAME [--checkpoint FILE|DIR] --out model.onnx [--opset 17] [--dynamic-batch] [--json]',
  details:
    'The graph takes pixel_values [batch, C, H, W] float32, normalised as the model expects (its mean, std,\n' +
    "crop_pct and interpolation are in the file's metadata, pretrained_cfg), and gives logits [batch, classes].\n" +
    'Opset 17 (LayerNormalization) by default; from 20 GELU is the Gelu op. --dynamic-batch makes the batch\n' +
    'axis symbolic; otherwise it is --batch-size. Without --checkpoint the weights are the random initial ones.',
  options: [
    MODEL_OPTION,
    { name: 'checkpoint', type: 'string', value: 'FILE|DIR', description: 'weights (safetensors) or a vitkit train folder' },
    { name: 'out', type: 'string', value: 'FILE', description: 'the .onnx file to write', required: true },
    { name: 'opset', type: 'number', value: 'N', description: `ONNX opset (${ONNX_OPSETS.join(', ')})`, default: 17 },
    { name: 'dynamic-batch', type: 'boolean', description: 'symbolic batch axis' },
    { name: 'batch-size', type: 'number', value: 'B', description: 'fixed batch size without --dynamic-batch', default: 1 },
    NUM_CLASSES_OPTION,
    { name: 'img-size', type: 'number', value: 'S', description: 'input size (models that accept it)' },
  ],
  async run({ options }, io) {
    const name = options.model;
    if (!(ONNX_OPSETS as readonly number[]).includes(options.opset)) {
      throw new UsageError(`--opset ${options.opset} is not supported (${ONNX_OPSETS.join(', ')})`);
    }
    if (!(Number.isInteger(options['batch-size']) && options['batch-size'] >= 1)) throw new UsageError('--batch-size must be at least 1');
    await initBackend({ quiet: true });
    if (!options.checkpoint) io.progress(`${name}: no --checkpoint, exporting the random initial weights`);
    const { model } = await loadCommandModel(
      name,
      { checkpoint: options.checkpoint, numClasses: options['num-classes'], imgSize: options['img-size'], allowFresh: true },
      io.progress,
    );
    let bytes: Uint8Array;
    let graph: OnnxModel;
    try {
      graph = exportOnnx(model.eval(), {
        opset: options.opset,
        dynamicBatch: options['dynamic-batch'],
        batchSize: options['batch-size'],
      });
      bytes = encodeOnnx(graph);
    } catch (e) {
      if (e instanceof OnnxExportError) throw new InputError(`${name}: ${e.message}`);
      throw e;
    } finally {
      model.dispose();
    }
    await writeFileAtomic(options.out, bytes);
    const nodes = graph.nodes.length;
    const data = {
      model: name,
      file: options.out,
      bytes: bytes.length,
      nodes,
      opset: options.opset,
      input: graph.inputs[0]!.dims,
      output: graph.outputs[0]!.dims,
      metadata: graph.metadata,
    };
    const lines = [
      `${options.out}: ${name}, ${nodes} nodes, opset ${options.opset}, ${(bytes.length / 2 ** 20).toFixed(1)} MiB`,
      `  pixel_values [${data.input.join(', ')}] -> logits [${data.output.join(', ')}]`,
    ];
    return { ok: true, lines, data };
  },
});
