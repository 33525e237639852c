import { readFile } from 'node:fs/promises';
import { type EncodeOptions, readTorchCheckpoint, type StateDict } from '@vitkit/core';
import { saveSafetensors } from '@vitkit/node';
import * as tf from '@tensorflow/tfjs-core';
import { InputError, UsageError } from '../args.js';
import type { Command } from '../command.js';

const DTYPES = { f32: 'F32', f16: 'F16', bf16: 'BF16' } as const;

export const convert: Command = {
  name: 'convert',
  summary: 'a PyTorch checkpoint (.pth zip) to safetensors, without running any code from it',
  usage: 'vitkit convert IN.pth OUT.safetensors [--key K] [--dtype f32|f16|bf16] [--json]',
  details:
    "Reads torch.save's zip format with a restricted unpickler: only a state dict's classes (tensors, storages, OrderedDict) are accepted; " +
    "anything else is refused, naming the class. The weights are taken from --key, else 'state_dict', else 'model', else the whole file; " +
    "a 'module.' prefix on every key (DataParallel) is dropped. Tensor names are kept as they are.",
  options: [
    { name: 'key', type: 'string', value: 'K', description: 'top-level key holding the state dict, e.g. model_ema' },
    { name: 'dtype', type: 'string', value: 'T', description: 'how float tensors are stored: f32, f16 or bf16', default: 'f32' },
  ],
  async run({ options, positionals }) {
    if (positionals.length !== 2) throw new UsageError('convert takes IN.pth and OUT.safetensors');
    const [input, output] = positionals as [string, string];
    const dtype = options['dtype'] as string;
    if (!Object.hasOwn(DTYPES, dtype)) throw new UsageError(`--dtype must be f32, f16 or bf16 (got '${dtype}')`);
    const bytes = await readFile(input).catch((e: NodeJS.ErrnoException) => {
      throw new InputError(`${input}: cannot read (${e.code ?? e.message})`);
    });
    let stateDict: StateDict;
    let key: string | null;
    try {
      ({ stateDict, key } = readTorchCheckpoint(new Uint8Array(bytes), input, { key: options['key'] as string | undefined }));
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    try {
      const encode: EncodeOptions = { floatDType: DTYPES[dtype as keyof typeof DTYPES], metadata: { format: 'pt' } };
      await saveSafetensors(output, stateDict, encode);
      const tensors = Object.keys(stateDict).length;
      const parameters = Object.values(stateDict)
        .filter((t) => t.dtype === 'float32')
        .reduce((n, t) => n + t.size, 0);
      return {
        ok: true,
        lines: [
          `${output}: ${tensors} tensors, ${parameters.toLocaleString('en-US')} parameters from ${key === null ? input : `${input} ['${key}']`}`,
        ],
        data: { input, output, key, tensors, parameters, dtype: encode.floatDType },
      };
    } finally {
      tf.dispose(Object.values(stateDict));
    }
  },
};
