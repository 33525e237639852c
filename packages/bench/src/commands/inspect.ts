import { readSafetensorsFile } from '@vitkit/node';
import { readSafetensorsHeader } from '@vitkit/core';
import { InputError, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { textTable } from '../format.js';

export const inspect = defineCommand({
  name: 'inspect',
  summary: "list a safetensors file's tensors (name, dtype, shape) and parameter count",
  usage: 'vitkit inspect FILE.safetensors [--json]',
  options: [],
  async run({ positionals }) {
    if (positionals.length !== 1) throw new UsageError('inspect takes exactly one FILE.safetensors');
    const path = positionals[0]!;
    const bytes = await readSafetensorsFile(path).catch((e: Error) => {
      throw new InputError(e.message);
    });
    let header: ReturnType<typeof readSafetensorsHeader>;
    try {
      header = readSafetensorsHeader(bytes, path);
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    const tensors = Object.entries(header.entries)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, e]) => ({ name, dtype: e.dtype, shape: e.shape, numel: e.shape.reduce((a, d) => a * d, 1) }));
    // Integer tensors are bookkeeping (BatchNorm's num_batches_tracked), not parameters.
    const parameters = tensors.filter((t) => t.dtype !== 'I64' && t.dtype !== 'I32').reduce((n, t) => n + t.numel, 0);
    const lines = [
      ...textTable(
        ['tensor', 'dtype', 'shape'],
        tensors.map((t) => [t.name, t.dtype, `[${t.shape.join(', ')}]`]),
      ),
      '',
      `${tensors.length} tensors, ${parameters.toLocaleString('en-US')} parameters (floating-point elements)`,
    ];
    return { ok: true, lines, data: { file: path, tensors, parameters, metadata: header.metadata } };
  },
});
