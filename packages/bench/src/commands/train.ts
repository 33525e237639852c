// `vitkit train`: the command line of `trainModel` (training.ts): trains a
// registered model on a dataset from scratch or from --pretrained weights,
// checkpointing into --out and resuming with --resume.
import { DATASET_SPEC_HELP } from '@vitkit/node';
import type { OptionsOf } from '../args.js';
import { defineCommand } from '../command.js';
import { MODEL_OPTION } from '../model-loading.js';
import { WORKERS_OPTION } from '../replicas.js';
import { TRAIN_DEFAULTS, type TrainRecipe, trainModel } from '../training.js';

const d = TRAIN_DEFAULTS;

const OPTIONS = [
  MODEL_OPTION,
  { name: 'dataset', type: 'string', value: 'SPEC', description: DATASET_SPEC_HELP, required: true },
  { name: 'epochs', type: 'number', value: 'N', description: 'epochs', default: 1 },
  { name: 'batch-size', type: 'number', value: 'B', description: 'training batch size', default: d.batchSize },
  { name: 'lr', type: 'number', value: 'LR', description: 'peak learning rate', default: d.lr },
  { name: 'min-lr', type: 'number', value: 'LR', description: 'learning rate at the end of the cosine', default: d.minLr },
  {
    name: 'weight-decay',
    type: 'number',
    value: 'WD',
    description: 'decoupled weight decay (not on biases, norms, position embeddings, tokens)',
    default: d.weightDecay,
  },
  { name: 'warmup', type: 'number', value: 'STEPS', description: 'linear warm-up steps', default: d.warmup },
  {
    name: 'optimizer',
    type: 'string',
    value: 'adamw|sgd',
    choices: ['adamw', 'sgd'],
    description: 'optimizer (sgd: momentum 0.9)',
    default: d.optimizer,
  },
  { name: 'label-smoothing', type: 'number', value: 'S', description: 'label smoothing', default: d.labelSmoothing },
  { name: 'clip-grad', type: 'number', value: 'NORM', description: 'clip gradients to this global norm (0: off)', default: d.clipGrad },
  { name: 'drop-path', type: 'number', value: 'P', description: 'stochastic depth rate (model default when absent)' },
  { name: 'ema', type: 'number', value: 'DECAY', description: 'keep an EMA of the weights and evaluate with it (e.g. 0.999)' },
  { name: 'mixup', type: 'number', value: 'ALPHA', description: 'mixup alpha (0: off)', default: d.mixup },
  { name: 'cutmix', type: 'number', value: 'ALPHA', description: 'cutmix alpha (0: off)', default: d.cutmix },
  { name: 'rand-augment', type: 'boolean', description: 'RandAugment rand-m9-n2-mstd0.5' },
  { name: 'img-size', type: 'number', value: 'S', description: "input size (default: the model's)" },
  { name: 'seed', type: 'number', value: 'N', description: 'seed for initialisation, shuffling, augmentation and dropout', default: 0 },
  { name: 'out', type: 'string', value: 'DIR', description: 'checkpoint folder', default: 'runs/train' },
  { name: 'resume', type: 'boolean', description: 'continue from the checkpoint in --out' },
  {
    name: 'pretrained',
    type: 'string',
    value: 'FILE|NAME',
    description:
      "start from these weights (safetensors, vitkit or reference names, or a pretrained name of --model's architecture: NAME.TAG, hf-hub:ORG/REPO, local-dir:DIR; position embeddings are resampled, a classifier for another class count is dropped, any other mismatch is an error)",
  },
  {
    name: 'allow-missing',
    type: 'boolean',
    description: 'with --pretrained: load what fits and leave the other tensors at their initial values',
  },
  {
    name: 'checkpoint-every',
    type: 'number',
    value: 'STEPS',
    description: 'also checkpoint every this many steps',
    default: d.checkpointEvery,
  },
  { name: 'eval-batch-size', type: 'number', value: 'B', description: 'evaluation batch size', default: d.evalBatchSize },
  WORKERS_OPTION,
  { name: 'limit', type: 'number', value: 'N', description: 'train on the first N images only (quick runs)' },
  { name: 'eval-limit', type: 'number', value: 'N', description: 'evaluate on the first N test images only' },
] as const;

/** The recipe the command line describes. */
export function recipeFromOptions(o: OptionsOf<typeof OPTIONS>): TrainRecipe {
  return {
    model: o.model,
    imgSize: o['img-size'],
    dataset: o.dataset,
    seed: o.seed,
    budget: { epochs: o.epochs, trainImages: o.limit, evalImages: o['eval-limit'] },
    hyperparameters: {
      batchSize: o['batch-size'],
      lr: o.lr,
      minLr: o['min-lr'],
      weightDecay: o['weight-decay'],
      warmup: o.warmup,
      optimizer: o.optimizer,
      labelSmoothing: o['label-smoothing'],
      clipGrad: o['clip-grad'],
      dropPath: o['drop-path'],
      ema: o.ema,
      mixup: o.mixup,
      cutmix: o.cutmix,
      randAugment: o['rand-augment'],
      checkpointEvery: o['checkpoint-every'],
      evalBatchSize: o['eval-batch-size'],
    },
    out: o.out,
    resume: o.resume,
    pretrained: o.pretrained === undefined ? undefined : { file: o.pretrained, allowMissing: o['allow-missing'] },
    workers: o.workers,
  };
}

export const train = defineCommand({
  name: 'train',
  summary: 'train a model on mnist, fashion-mnist, CIFAR or an image folder; checkpoints, resume, top-1/top-5',
  usage: 'vitkit train --model NAME --dataset SPEC [--epochs N] [--batch-size B] [--lr LR] [--out DIR] [--resume] [--json]',
  details:
    'Evaluates top-1/top-5 on the test split after every epoch. Checkpoints (weights, optimizer, RNG state) go to\n' +
    '--out after every epoch and every --checkpoint-every steps; Ctrl-C saves and exits, --resume continues\n' +
    'exactly where it stopped. 28-pixel datasets are padded to the model input; greyscale becomes RGB.',
  options: OPTIONS,
  async run({ options }, io) {
    const recipe = recipeFromOptions(options);
    const result = await trainModel(recipe, io);
    const { model, dataset, out } = recipe;
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);
    const lines = [
      result.interrupted
        ? `interrupted after step ${result.steps}; resume with: vitkit train --model ${model} --dataset ${dataset} --out ${out} --resume`
        : `${model} on ${dataset}: top-1 ${pct(result.top1)}, top-5 ${pct(result.top5)} (${result.eval_images} test images)`,
      `${result.images} training images in ${result.seconds.toFixed(1)} s; weights: ${result.checkpoint ?? 'none saved'}`,
    ];
    return { ok: true, lines, data: result };
  },
});
