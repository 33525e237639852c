// The HTTP server behind `vitkit demo`: the page bench's build bundled from
// packages/demo, tfjs-backend-wasm's .wasm files from node_modules, and the
// weights of the chosen model as safetensors (pretrained models come from
// the Hub the page is pointed at, straight into the page). Every response carries
// COOP/COEP (and CORP on its own files), so the page is cross-origin isolated
// and the WebAssembly backend can take its threaded build (SharedArrayBuffer
// exists only there). Loopback only: nothing leaves the machine.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { createModel, encodeSafetensors, getModelEntry, seedInit } from '@vitkit/core';
import { initBackend } from '@vitkit/node';
import { InputError } from './args.js';
import './register-models.js';

/** The page bundled by bench's build (packages/demo/build.mjs). */
export const DEMO_PAGE_DIR = fileURLToPath(new URL('./demo-page/', import.meta.url));
const WASM_DIR = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
const WASM_FILES = new Set(['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.safetensors': 'application/octet-stream',
};

export interface DemoServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The model the page opens with. */
  model: string;
  /** Weights served for `model` (a safetensors file); other models get seeded fresh weights. */
  checkpoint?: { file: string; bytes: Uint8Array };
  /** Seed of the fresh weights. */
  seed: number;
  /** The Hub the page fetches `hf-hub:` names and registered tags from. */
  hubUrl: string;
}

export interface DemoServer {
  url: string;
  close(): Promise<void>;
}

/** Fresh weights of a registered model, seeded, as the bytes of a safetensors file. */
async function seededWeights(name: string, seed: number): Promise<Uint8Array> {
  await initBackend({ quiet: true });
  seedInit(seed);
  const model = createModel(name);
  const sd = model.stateDict();
  try {
    return await encodeSafetensors(sd);
  } finally {
    tf.dispose(Object.values(sd));
    model.dispose();
  }
}

function send(res: ServerResponse, status: number, body: Uint8Array | string, type: string): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

/** Starts the server; resolves once it listens. */
export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  const index = await readFile(join(DEMO_PAGE_DIR, 'index.html')).catch(() => {
    throw new InputError(`the demo page is not built: ${join(DEMO_PAGE_DIR, 'index.html')} is missing (npm run build bundles it)`);
  });
  const weights = new Map<string, Promise<Uint8Array>>();
  if (options.checkpoint) weights.set(options.model, Promise.resolve(options.checkpoint.bytes));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://demo').pathname);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'GET only', 'text/plain');
    if (path === '/' || path === '/index.html') return send(res, 200, index, TYPES['.html']!);
    if (path === '/api/config') return send(res, 200, JSON.stringify({ model: options.model, hubUrl: options.hubUrl }), TYPES['.json']!);
    const wasm = /^\/wasm\/([\w.-]+)$/.exec(path);
    if (wasm) {
      if (!WASM_FILES.has(wasm[1]!)) return send(res, 404, `no such wasm file: ${wasm[1]}`, 'text/plain');
      return send(res, 200, await readFile(join(WASM_DIR, wasm[1]!)), TYPES['.wasm']!);
    }
    const weightsPath = /^\/weights\/([\w.-]+)\.safetensors$/.exec(path);
    if (weightsPath) {
      const name = weightsPath[1]!;
      try {
        getModelEntry(name);
      } catch (e) {
        return send(res, 404, (e as Error).message, 'text/plain');
      }
      if (!weights.has(name)) weights.set(name, seededWeights(name, options.seed));
      return send(res, 200, await weights.get(name)!, TYPES['.safetensors']!);
    }
    const file = /^\/([\w-]+\.js)$/.exec(path);
    if (file) {
      const body = await readFile(join(DEMO_PAGE_DIR, file[1]!)).catch(() => null);
      if (body) return send(res, 200, body, TYPES[extname(file[1]!)]!);
    }
    return send(res, 404, `not found: ${path}`, 'text/plain');
  }

  const server = createServer((req, res) => {
    route(req, res).catch((e: Error) => send(res, 500, e.message, 'text/plain'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new InputError(e.code === 'EADDRINUSE' ? `--port ${options.port}: the port is in use` : e.message)),
    );
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
