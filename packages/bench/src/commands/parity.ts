import { initBackend, runParityFixture } from '@vitkit/node';
import { InputError, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { textTable } from '../format.js';
import '../register-models.js';

export const parity = defineCommand({
  name: 'parity',
  summary: 'check a model against a reference export (logits and intermediates)',
  usage: 'vitkit parity FIXTURE_DIR [--json]',
  details:
    'FIXTURE_DIR holds config.json (family, reference_args, tolerance), weights.safetensors (reference names and\n' +
    'layouts) and io.safetensors (input, logits, inter.*). Builds the model from reference_args, loads the weights\n' +
    'strictly, runs the input in eval mode and prints the max absolute difference of every mapped tensor.\n' +
    'Exits 1 if any exceeds the tolerance or the parameter count differs.',
  options: [],
  async run({ positionals }) {
    if (positionals.length !== 1) throw new UsageError('parity takes exactly one FIXTURE_DIR');
    await initBackend({ quiet: true });
    let report: Awaited<ReturnType<typeof runParityFixture>>;
    try {
      report = await runParityFixture(positionals[0]!);
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    const lines = [
      `${report.fixture} (family ${report.family}): ${report.numParams.toLocaleString('en-US')} parameters` +
        (report.expectedParams === null ? '' : ` (reference ${report.expectedParams.toLocaleString('en-US')})`),
      ...textTable(
        ['tensor', 'shape', 'max |diff|', 'ok'],
        report.rows.map((r) => [r.tensor, `[${r.shape.join(', ')}]`, r.maxAbs.toExponential(2), r.ok ? 'yes' : 'NO']),
      ),
      ...(report.unmapped.length ? [`not compared (no matching module): ${report.unmapped.join(', ')}`] : []),
      report.ok ? `parity OK (tolerance ${report.tolerance})` : `parity FAILED (tolerance ${report.tolerance})`,
    ];
    return { ok: report.ok, lines, data: report };
  },
});
