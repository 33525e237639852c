// Datasets as the commands open them (train, eval): one split of a dataset
// spec, and the evaluation batches a model sees.
import { DataLoader, type EvalConfig, evalTransform, type ImageDataset, type ModelInput, subset } from '@vitkit/core';
import { openDataset, parseDatasetSpec } from '@vitkit/node';
import { InputError } from './args.js';

/** The model's input as the data pipeline needs it: its eval config, with its channel count. */
export function modelInput(evalConfig: EvalConfig, inChannels: number): ModelInput & { mean: readonly number[]; std: readonly number[] } {
  return { ...evalConfig, inChannels };
}

/** One split of a dataset spec, its first `limit` images when given; a bad spec or missing data is an input error. */
export async function openSplit(spec: string, split: 'train' | 'test', limit?: number): Promise<ImageDataset> {
  try {
    const ds = await openDataset(parseDatasetSpec(spec), split);
    return limit ? subset(ds, limit) : ds;
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

/** Evaluation batches: the model's evaluation transform, no shuffling, every image. */
export function evalLoader(ds: ImageDataset, input: ReturnType<typeof modelInput>, batchSize: number): DataLoader {
  return new DataLoader(ds, {
    batchSize,
    imageShape: [input.imgSize, input.imgSize, input.inChannels],
    mean: input.mean,
    std: input.std,
    transform: evalTransform(ds.imageShape, input),
  });
}
