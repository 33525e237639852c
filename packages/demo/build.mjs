// Bundles the demo page with esbuild: src/index.html and the page script,
// minified, each tfjs backend in its own chunk (only the one in use is
// fetched). `node build.mjs OUTDIR` writes the page there (bench's build puts
// it in its dist for `vitkit demo`); the size test calls bundleDemo without
// writing.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * @huggingface/hub's browser build. Its package.json sends every `import` to
 * the Node build through `exports` and names the browser one only in its
 * `browser` field, which esbuild does not apply to a path `exports` gave
 * (measured with esbuild 0.28: "Could not resolve fs"), so the alias says it.
 */
export const HUB_BROWSER_BUILD = join(
  dirname(createRequire(join(here, '../core/package.json')).resolve('@huggingface/hub')),
  'browser/index.mjs',
);

/** Bundles the page script into `outdir`; returns esbuild's result with its metafile. */
export async function bundleDemo(outdir, { write = true } = {}) {
  const result = await build({
    absWorkingDir: here,
    entryPoints: { demo: 'src/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    metafile: true,
    alias: { '@huggingface/hub': HUB_BROWSER_BUILD },
    write,
    logLevel: 'warning',
  });
  if (write) copyFileSync(join(here, 'src/index.html'), join(outdir, 'index.html'));
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = resolve(process.argv[2] ?? 'dist');
  mkdirSync(outdir, { recursive: true });
  const { metafile } = await bundleDemo(outdir);
  const bytes = Object.values(metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  console.log(`demo page: ${Object.keys(metafile.outputs).length} files, ${(bytes / 1024).toFixed(0)} KiB of JavaScript in ${outdir}`);
}
