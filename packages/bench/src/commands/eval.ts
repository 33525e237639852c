// `vitkit eval`: top-1/top-5 of saved weights on a dataset's test split, on
// TensorFlow.js or on ONNX Runtime (--runtime onnx).
import { type BatchForward, evaluate } from '@vitkit/core';
import { type DataParallel, DATASET_SPEC_HELP, initBackend } from '@vitkit/node';
import { defineCommand } from '../command.js';
import { evalLoader, modelInput, openSplit } from '../datasets.js';
import { InputError, UsageError } from '../args.js';
import { CHECKPOINT_OPTION, isPretrainedName, loadCommandModel, MODEL_OPTION } from '../model-loading.js';
import { ONNX_RUNTIME_OPTIONS, OnnxSession, resolveDevice, resolveRuntime } from '../onnx/session.js';
import { evalOnReplicas, replicaCount, startReplicas, WORKERS_OPTION } from '../replicas.js';

export const evalCommand = defineCommand({
  name: 'eval',
  summary: "top-1/top-5 accuracy of saved weights on a dataset's test split",
  usage:
    'vitkit eval --model NAME.TAG|hf-hub:ORG/REPO|local-dir:DIR|NAME [--checkpoint FILE|DIR] --dataset SPEC [--batch-size B] [--runtime tfjs|onnx] [--json]',
  details:
    'The weights may use vitkit names or the reference names of the model family (timm, the official code, pycls);\n' +
    'a position embedding for another image size is resampled to the model (and a line says so). --runtime onnx\n' +
    '(or VITKIT_RUNTIME=onnx) runs the model exported to ONNX (cached in --cache-dir) in ONNX Runtime.',
  options: [
    MODEL_OPTION,
    CHECKPOINT_OPTION,
    { name: 'dataset', type: 'string', value: 'SPEC', description: DATASET_SPEC_HELP, required: true },
    { name: 'batch-size', type: 'number', value: 'B', description: 'batch size', default: 250 },
    { name: 'img-size', type: 'number', value: 'S', description: 'input size (default: the run config, else the model)' },
    { name: 'limit', type: 'number', value: 'N', description: 'evaluate the first N test images only' },
    WORKERS_OPTION,
    ...ONNX_RUNTIME_OPTIONS,
  ],
  async run({ options }, io) {
    const { model: name, dataset: spec } = options;
    const runtime = resolveRuntime(options.runtime);
    const device = resolveDevice(options.device, runtime);
    if (runtime === 'onnx' && options.workers !== undefined)
      throw new UsageError('--workers starts TF.js replicas; --runtime onnx runs one ONNX Runtime session on every core');
    const backend = await initBackend({ quiet: true });
    const testSet = await openSplit(spec, 'test', options.limit);
    const loaded = await loadCommandModel(
      name,
      {
        checkpoint: options.checkpoint,
        numClasses: isPretrainedName(name) ? undefined : testSet.classes.length,
        imgSize: options['img-size'],
      },
      io.progress,
    );
    const { model } = loaded;
    let parallel: DataParallel | null = null;
    let session: OnnxSession | null = null;
    try {
      if (testSet.classes.length !== model.numClasses) {
        throw new InputError(
          `${name} has ${model.numClasses} classes and ${testSet.name} ${testSet.classes.length}; vitkit validate --class-map maps class folders to a model's classes`,
        );
      }
      const input = modelInput(loaded.evalConfig, loaded.inChannels);
      let forward: BatchForward | undefined;
      if (runtime === 'onnx') {
        model.eval();
        session = await OnnxSession.forModel(loaded.architecture, model, { device, cacheDir: options['cache-dir'] });
        io.progress(`evaluating ${loaded.weights} on ${testSet.name} (${testSet.size} images, ${session.description})`);
        forward = session.batchForward();
      } else {
        const replicas = replicaCount(options.workers, backend.backend);
        parallel = await startReplicas(model, loaded.architecture, loaded.options, replicas);
        io.progress(`evaluating ${loaded.weights} on ${testSet.name} (${testSet.size} images, ${replicas} replica(s))`);
        forward = parallel ? evalOnReplicas(parallel)() : undefined;
      }
      const r = await evaluate(model, evalLoader(testSet, input, options['batch-size']), { forward });
      const data = {
        model: name,
        dataset: spec,
        checkpoint: loaded.weights,
        top1: r.top1,
        top5: r.top5,
        loss: r.loss,
        images: r.images,
        seconds: r.seconds,
        backend: session ? session.description : backend.backend,
      };
      const lines = [
        `${name} on ${spec}: top-1 ${(100 * r.top1).toFixed(2)}%, top-5 ${(100 * r.top5).toFixed(2)}%, loss ${r.loss.toFixed(4)} (${r.images} images, ${r.seconds.toFixed(1)} s)`,
      ];
      return { ok: true, lines, data };
    } finally {
      await parallel?.close();
      await session?.release();
      model.dispose();
    }
  },
});
