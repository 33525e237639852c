// `npm run perf`: the speed cases of issue #9, each timed by `vitkit throughput`
// in its own process (a fresh WebAssembly heap), and, where Debian's PyTorch is
// installed, the PyTorch peer (../shared/peers/torch_vit_speed.py) timed right
// before each case, so the ratios compare runs minutes apart, not machines
// or days apart. The ONNX cases time `vitkit throughput --runtime onnx`
// against ONNX Runtime running PyTorch's own export of the same ViT
// (../shared/peers/ort_vit_speed.mjs on export_onnx_peer.py's files) and
// vitkit's WebAssembly path, the three interleaved twice and the best of each
// kept, so load on a shared machine hits them alike. Prints one table; --json writes the rows as one JSON line.
//
//   node scripts/perf/run.mjs [--runs N] [--case SUBSTRING] [--json] [--out FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'packages', 'bench', 'dist', 'cli.js');
const peerScript = join(root, '..', 'shared', 'peers', 'torch_vit_speed.py');
const ortPeerScript = join(root, '..', 'shared', 'peers', 'ort_vit_speed.mjs');
const ortExportScript = join(root, '..', 'shared', 'peers', 'export_onnx_peer.py');
const ortPeerDir = join(tmpdir(), 'vitkit-perf-onnx-peer');
const python = '/usr/bin/python3';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const runs = value('--runs', '5');
const out = value('--out', null);
const only = value('--case', null);

/** target: vitkit time / PyTorch time, or for models without a peer, vit_small's GMAC/s over theirs. */
const CASES = [
  {
    name: 'vit_small_patch16_224 infer b8',
    argv: ['--model', 'vit_small_patch16_224', '--batch-size', '8'],
    peer: 'vit_small_patch16_224_infer',
    target: 4,
    stretch: 2.5,
  },
  {
    name: 'vit_tiny_patch16_224 infer b8',
    argv: ['--model', 'vit_tiny_patch16_224', '--batch-size', '8'],
    peer: 'vit_tiny_patch16_224_infer',
    target: 4,
    stretch: 2.5,
  },
  {
    name: 'ViT-Ti 32px/4 train b64',
    argv: [
      '--model',
      'vit_tiny_patch16_224',
      '--img-size',
      '32',
      '--patch-size',
      '4',
      '--num-classes',
      '10',
      '--train',
      '--batch-size',
      '64',
    ],
    peer: 'vit_small32_train',
    target: 4,
    stretch: 2.5,
  },
  {
    name: 'vit_small_patch16_224 onnx b8',
    argv: ['--model', 'vit_small_patch16_224', '--batch-size', '8', '--runtime', 'onnx'],
    ortPeer: 'vit_small_patch16_224',
    target: 1.15,
  },
  {
    name: 'vit_tiny_patch16_224 onnx b8',
    argv: ['--model', 'vit_tiny_patch16_224', '--batch-size', '8', '--runtime', 'onnx'],
    ortPeer: 'vit_tiny_patch16_224',
    target: 1.15,
  },
  {
    name: 'cswin_tiny_224 infer b8',
    argv: ['--model', 'cswin_tiny_224', '--batch-size', '8'],
    macsVs: 'vit_small_patch16_224 infer b8',
    target: 1.5,
  },
  {
    name: 'crossvit_tiny_240 infer b8',
    argv: ['--model', 'crossvit_tiny_240', '--batch-size', '8'],
    macsVs: 'vit_small_patch16_224 infer b8',
    target: 1.5,
  },
];

function peerAvailable() {
  if (!existsSync(peerScript)) return `no peer script at ${peerScript}`;
  const r = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  return r.status === 0
    ? null
    : `${python} cannot import torch and torchvision (apt-get install python3-torch python3-torchvision libopenblas0-openmp)`;
}

/** PyTorch's own ONNX export of `name` (exported once per machine), or why there is none. */
function ortPeerFile(name) {
  const file = join(ortPeerDir, `${name}.onnx`);
  if (existsSync(file)) return { file };
  if (!existsSync(ortExportScript)) return { why: `no peer export script at ${ortExportScript}` };
  mkdirSync(ortPeerDir, { recursive: true });
  const r = spawnSync(python, [ortExportScript, ortPeerDir], { encoding: 'utf8' });
  if (r.status !== 0) return { why: `export_onnx_peer.py failed (python3-torch and python3-torchvision installed?):\n${r.stderr}` };
  return existsSync(file) ? { file } : { why: `export_onnx_peer.py wrote no ${file}` };
}

/** ONNX Runtime (the same onnxruntime-node as vitkit's, every core) on PyTorch's export. */
function ortPeer(file) {
  const argv = [ortPeerScript, file, '--batch', '8', '--threads', String(availableParallelism()), '--runs', runs];
  return lastJson(execFileSync(process.execPath, argv, { encoding: 'utf8', cwd: root }), `ort_vit_speed.mjs ${file}`);
}

function lastJson(text, what) {
  const line = text.trim().split('\n').at(-1);
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`${what} did not end with a JSON line:\n${text}`);
  }
}

function vitkit(c) {
  const r = spawnSync(process.execPath, [cli, 'throughput', ...c.argv, '--runs', runs, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`vitkit throughput ${c.argv.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return lastJson(r.stdout, `vitkit throughput ${c.argv.join(' ')}`);
}

function peer(c) {
  const text = execFileSync(python, [peerScript, '--case', c.peer, '--runs', runs], { encoding: 'utf8' });
  return lastJson(text, `torch_vit_speed.py --case ${c.peer}`);
}

if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx nx run-many -t build)`);
const noPeer = peerAvailable();
if (noPeer) console.error(`perf: no PyTorch peer: ${noPeer}`);

const rows = [];
for (const c of CASES.filter((k) => !only || k.name.includes(only))) {
  console.error(`perf: ${c.name}...`);
  const torch = c.peer && !noPeer ? peer(c) : null;
  const peerFile = c.ortPeer ? ortPeerFile(c.ortPeer) : null;
  if (peerFile?.why) console.error(`perf: ${c.name}: no ONNX Runtime peer: ${peerFile.why}`);
  let mine;
  let ort = null;
  let wasm = null;
  if (peerFile?.file) {
    const best = (a, b) => (a && a.images_per_s >= b.images_per_s ? a : b);
    const onWasm = { argv: c.argv.filter((a, i) => a !== '--runtime' && c.argv[i - 1] !== '--runtime') };
    for (let round = 0; round < 2; round++) {
      ort = best(ort, ortPeer(peerFile.file));
      mine = best(mine, vitkit(c));
      wasm = best(wasm, vitkit(onWasm));
    }
  } else {
    mine = vitkit(c);
  }
  const row = {
    case: c.name,
    model: mine.model,
    mode: mine.mode,
    batch: mine.batch,
    img_size: mine.img_size,
    images_per_s: mine.images_per_s,
    gmacs_per_s: mine.gmacs_per_s,
    replicas: mine.replicas,
    heap_mib: mine.heap_bytes === null ? null : Math.round(mine.heap_bytes / 2 ** 20),
    heap_growth_mib: mine.heap_bytes === null ? null : Math.round((mine.heap_bytes - mine.heap_bytes_after_warmup) / 2 ** 20),
    backend: mine.backend,
    runtime: mine.runtime,
    torch_images_per_s: torch?.images_per_s ?? null,
    ort_peer_images_per_s: ort?.images_per_s ?? null,
    wasm_images_per_s: wasm?.images_per_s ?? null,
    ratio: null,
    target: c.target,
    stretch: c.stretch ?? null,
  };
  if (torch) row.ratio = torch.images_per_s / mine.images_per_s;
  if (ort) row.ratio = ort.images_per_s / mine.images_per_s;
  if (c.macsVs) {
    const ref = rows.find((r) => r.case === c.macsVs);
    if (ref) row.ratio = ref.gmacs_per_s / mine.gmacs_per_s;
  }
  rows.push(row);
}

const fmt = (x, d = 2) => (x === null || x === undefined ? '-' : Number(x).toFixed(d));
const verdict = (r) => (r.ratio === null ? '-' : r.stretch && r.ratio <= r.stretch ? 'stretch' : r.ratio <= r.target ? 'met' : 'missed');
const table = [
  ['case', 'vitkit img/s', 'GMAC/s', 'replicas', 'heap MiB', 'PyTorch img/s', 'ORT peer img/s', 'WASM img/s', 'ratio', 'target', 'verdict'],
  ...rows.map((r) => [
    r.case,
    fmt(r.images_per_s),
    fmt(r.gmacs_per_s),
    String(r.replicas),
    fmt(r.heap_mib, 0),
    fmt(r.torch_images_per_s),
    fmt(r.ort_peer_images_per_s),
    fmt(r.wasm_images_per_s),
    fmt(r.ratio),
    `<= ${r.target}`,
    verdict(r),
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
for (const [i, row] of table.entries()) {
  console.log(row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
console.log(
  'ratio: vitkit time / PyTorch time for the same images (PyTorch img/s over vitkit img/s); for the onnx cases, ' +
    "ONNX Runtime on PyTorch's export over ONNX Runtime on vitkit's (best of two interleaved rounds each, vitkit's " +
    'WebAssembly figure from the same rounds); for CSWin ' +
    "and CrossViT, vit_small's GMAC/s over theirs. Heap: the largest WebAssembly heap of any replica (its peak).",
);
if (out) {
  const tmp = `${out}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ date: new Date().toISOString(), runs: Number(runs), rows }, null, 2)}\n`);
  renameSync(tmp, out);
}
if (flag('--json')) console.log(JSON.stringify(rows));
