// The demo page: a registered model (weights from the server, or a
// .safetensors file dropped on the page) or a pretrained one by name
// (`hf-hub:ORG/REPO`, a registered `NAME.TAG`, a folder URL; fetched by
// fetchPretrained and kept in the Cache API) classifies an image in the
// browser, with the attention rollout over the model's input, on the backend
// the user picks. Everything runs through @vitkit/core's browser entry and its
// one loader and eval transform, as a web app would use them.
import * as tf from '@tensorflow/tfjs-core';
import {
  type BrowserBackendInfo,
  type BrowserBackendName,
  browserImageInput,
  buildPretrained,
  canExplainAttention,
  createModel,
  type EvalConfig,
  evalConfigOf,
  evalResize,
  getModelEntry,
  type ImageClassifier,
  initBrowserBackend,
  labelsFor,
  listModels,
  loadWeightsFrom,
  overlayHeatmap,
  readImagePixels,
  toUint8Pixels,
} from '@vitkit/core';
import { fetchPretrainedFiles, type PretrainedDownload } from '@vitkit/core/hub';
import '@vitkit/vit';
import '@vitkit/hybrid-stem';
import '@vitkit/cswin';
import '@vitkit/crossvit';

/** What the server tells the page (GET /api/config). */
interface DemoConfig {
  model: string;
  /** Where `hf-hub:` names and registered tags are fetched from. */
  hubUrl: string;
}

/** One classification, as the page shows it (and tests read it). */
export interface DemoResult {
  model: string;
  weights: string;
  backend: BrowserBackendName;
  threads: number;
  crossOriginIsolated: boolean;
  logits: number[];
  /** The URLs of a pretrained model's files that came from the Cache API, without a request. */
  cached: string[];
  top5: { label: string; probability: number }[];
  /** Milliseconds for one image, after a first run that compiled the kernels. */
  ms: number;
}

interface DemoState {
  status: 'loading' | 'ready' | 'busy' | 'error';
  error: string | null;
  backend: BrowserBackendInfo | null;
  last: DemoResult | null;
  /** Classifications so far (a test waits for it to grow). */
  runs: number;
}

const VIEW = 256;
const state: DemoState = { status: 'loading', error: null, backend: null, last: null, runs: 0 };
(globalThis as unknown as { vitkitDemo: DemoState }).vitkitDemo = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const modelSelect = $<HTMLSelectElement>('model');
const backendSelect = $<HTMLSelectElement>('backend');
const statusLine = $<HTMLDivElement>('status');
const pretrainedInput = $<HTMLInputElement>('pretrained');

let config: DemoConfig = { model: '', hubUrl: '' };
/** The name the user chose (registered, or pretrained as typed). */
let modelName = '';
/** The registered model it is built as. */
let architecture = '';
let model: ImageClassifier | null = null;
let evalConfig: EvalConfig | null = null;
let labels: string[] = [];
/** A registered model's weights in use, kept to rebuild the model on another backend. */
let weights: { bytes: Uint8Array; source: string } | null = null;
/** A pretrained model's files, kept for the same reason (null for a registered model). */
let pretrained: PretrainedDownload | null = null;
let image: ImageBitmap | null = null;
/** Backend and model the kernels have run for (the first run compiles shaders). */
let warm = '';

function show(text: string, error = false): void {
  statusLine.textContent = text;
  statusLine.className = error ? 'error' : '';
}

async function guarded(what: string, task: () => Promise<void>): Promise<void> {
  state.status = 'busy';
  try {
    await task();
    state.status = 'ready';
    state.error = null;
  } catch (e) {
    state.status = 'error';
    state.error = `${what}: ${e instanceof Error ? e.message : String(e)}`;
    show(state.error, true);
  }
}

async function useBackend(prefer: BrowserBackendName): Promise<void> {
  state.backend = await initBrowserBackend({
    prefer,
    wasmPaths: new URL('./wasm/', location.href).href,
    backends: {
      webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
      webgl: () => import('@tensorflow/tfjs-backend-webgl'),
      wasm: () => import('@tensorflow/tfjs-backend-wasm'),
    },
  });
  backendSelect.value = state.backend.backend;
}

function backendLine(): string {
  const b = state.backend!;
  const threads = b.backend === 'wasm' ? `, ${b.threads} thread(s), SIMD ${b.simd ? 'on' : 'off'}` : '';
  const fallbacks = b.fallbacks.length ? `\nnot used: ${b.fallbacks.join('; ')}` : '';
  return `backend ${b.backend}${threads}, cross-origin isolated: ${b.crossOriginIsolated}${fallbacks}`;
}

/** Builds the chosen model on the current backend: a pretrained one by core's buildPretrained, a registered one through its one loader. */
async function buildModel(): Promise<void> {
  model?.dispose();
  model = null;
  let next: ImageClassifier;
  if (pretrained) {
    const built = await buildPretrained(pretrained.files, pretrained.configText, pretrained.weights);
    [next, architecture, evalConfig, labels] = [built.model, built.architecture, built.evalConfig, built.labels];
  } else {
    next = createModel(modelName);
    try {
      await loadWeightsFrom(next, weights!.bytes, { source: weights!.source });
    } catch (e) {
      next.dispose();
      throw e;
    }
    architecture = modelName;
    evalConfig = evalConfigOf(getModelEntry(modelName).defaults, next.imgSize[0]);
    labels = labelsFor(next.numClasses);
  }
  next.eval();
  model = next;
  warm = '';
}

async function fetchWeights(name: string): Promise<void> {
  const url = `./weights/${encodeURIComponent(name)}.safetensors`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  weights = { bytes: new Uint8Array(await response.arrayBuffer()), source: url };
}

function drawRgb(canvas: HTMLCanvasElement, rgb: Uint8Array, size: number): void {
  canvas.width = size;
  canvas.height = size;
  const rgba = new ImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    rgba.data.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
    rgba.data[i * 4 + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(rgba, 0, 0);
}

/** Nearest-neighbour enlargement for display only (the model never sees it). */
function enlarge(rgb: Uint8Array, size: number, to: number): Uint8Array {
  const out = new Uint8Array(to * to * 3);
  for (let y = 0; y < to; y++) {
    const sy = Math.floor((y * size) / to);
    for (let x = 0; x < to; x++) {
      const s = (sy * size + Math.floor((x * size) / to)) * 3;
      out.set(rgb.subarray(s, s + 3), (y * to + x) * 3);
    }
  }
  return out;
}

async function forward(
  x: tf.Tensor4D,
): Promise<{ logits: Float32Array; rollout: { values: Float32Array; grid: [number, number] } | null }> {
  const m = model!;
  if (canExplainAttention(m) && getModelEntry(architecture).defaults.family !== 'crossvit') {
    const { logits, groups } = m.explainAttention(x, { rollout: true });
    const group = groups[0]!;
    try {
      return {
        logits: (await logits.data()) as Float32Array,
        rollout: { values: (await group.maps.data()) as Float32Array, grid: group.grid },
      };
    } finally {
      tf.dispose([logits, ...groups.map((g) => g.maps)]);
    }
  }
  const logits = tf.tidy(() => m.forward(x));
  try {
    return { logits: (await logits.data()) as Float32Array, rollout: null };
  } finally {
    logits.dispose();
  }
}

async function classify(): Promise<void> {
  if (!model || !image) return;
  const cfg = evalConfig!;
  const x = browserImageInput(image, cfg);
  try {
    const key = `${state.backend!.backend} ${modelName}`;
    if (warm !== key) {
      await forward(x);
      warm = key;
    }
    const start = performance.now();
    const { logits, rollout } = await forward(x);
    const ms = performance.now() - start;

    const crop = toUint8Pixels(evalResize(readImagePixels(image), cfg).data);
    const big = enlarge(crop, cfg.imgSize, VIEW);
    drawRgb($('input'), big, VIEW);
    if (rollout) drawRgb($('heat'), overlayHeatmap(big, VIEW, rollout.values, rollout.grid), VIEW);
    else $<HTMLCanvasElement>('heat').getContext('2d')!.clearRect(0, 0, VIEW, VIEW);
    const caption = $('heat').nextElementSibling!;
    caption.textContent = rollout
      ? `attention rollout over a ${rollout.grid.join('x')} patch grid`
      : 'no attention rollout for this family';

    // On the host: a synchronous read back from WebGPU is not reliable, and these are ten to a thousand numbers.
    const top = Math.max(...logits);
    const exp = logits.map((v) => Math.exp(v - top));
    const sum = exp.reduce((a, b) => a + b, 0);
    const probabilities = exp.map((v) => v / sum);
    const top5 = [...probabilities]
      .map((probability, i) => ({ label: labels[i]!, probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, 5);
    const rows = top5.map(
      (t) =>
        `<tr><td>${t.label.replace(/</g, '&lt;')}</td><td class="p"><div class="bar" style="width:${(t.probability * 100).toFixed(1)}%"></div></td><td>${(t.probability * 100).toFixed(1)}%</td></tr>`,
    );
    $('top5').innerHTML = rows.join('');
    const b = state.backend!;
    const weightsSource = pretrained ? pretrained.files.weights : weights!.source;
    const cachedNote = pretrained?.cached.includes(weightsSource) ? ', from the browser cache' : '';
    $('stats').textContent = `${modelName} on ${b.backend}: ${ms.toFixed(1)} ms per image (weights ${weightsSource}${cachedNote})`;
    state.last = {
      model: modelName,
      weights: weightsSource,
      cached: pretrained?.cached ?? [],
      backend: b.backend,
      threads: b.threads,
      crossOriginIsolated: b.crossOriginIsolated,
      logits: [...logits],
      top5,
      ms,
    };
    state.runs++;
    show(backendLine());
  } finally {
    x.dispose();
  }
}

/** A registered name without a tag: the server's weights; anything else (hf-hub:, NAME.TAG, a URL): fetchPretrained. */
function isPretrainedName(name: string): boolean {
  return !listModels().includes(name);
}

async function chooseModel(name: string): Promise<void> {
  show(`loading ${name}…`);
  modelName = name;
  if (isPretrainedName(name)) {
    pretrainedInput.value = name;
    // The Cache API (caches.open('vitkit-pretrained')) keeps the files: a second load makes no download.
    pretrained = await fetchPretrainedFiles(name, { hubUrl: config.hubUrl });
  } else {
    modelSelect.value = name;
    pretrained = null;
    await fetchWeights(name);
  }
  await buildModel();
  await classify();
  show(backendLine());
}

async function takeFile(file: File): Promise<void> {
  if (file.name.endsWith('.safetensors')) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    // Over a pretrained model the dropped weights keep its config.json (classes, preprocessing).
    if (pretrained) pretrained = { ...pretrained, weights: bytes, files: { ...pretrained.files, weights: file.name }, cached: [] };
    else weights = { bytes, source: file.name };
    await buildModel();
  } else {
    // No colour management and no premultiplied alpha: the bytes PIL's convert('RGB') reads.
    image = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  }
  await classify();
}

async function start(): Promise<void> {
  config = (await (await fetch('./api/config')).json()) as DemoConfig;
  for (const name of listModels()) modelSelect.add(new Option(name, name));
  const params = new URLSearchParams(location.search);
  await useBackend((params.get('backend') as BrowserBackendName | null) ?? 'webgpu');
  await chooseModel(params.get('model') ?? config.model);
}

modelSelect.addEventListener('change', () => guarded('model', () => chooseModel(modelSelect.value)));
backendSelect.addEventListener('change', () =>
  guarded('backend', async () => {
    await useBackend(backendSelect.value as BrowserBackendName);
    await buildModel();
    await classify();
    show(backendLine());
  }),
);
const loadTyped = () => pretrainedInput.value.trim() && guarded('model', () => chooseModel(pretrainedInput.value.trim()));
$('load').addEventListener('click', loadTyped);
pretrainedInput.addEventListener('keydown', (e) => e.key === 'Enter' && loadTyped());
for (const id of ['image', 'weights']) {
  const input = $<HTMLInputElement>(id);
  input.addEventListener('change', () => input.files?.[0] && guarded(id, () => takeFile(input.files![0]!)));
}
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file) guarded('drop', () => takeFile(file));
});
guarded('start', start);
