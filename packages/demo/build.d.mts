import type { BuildResult } from 'esbuild';

/** Bundles the page script into `outdir`; returns esbuild's result with its metafile. */
export function bundleDemo(outdir: string, options?: { write?: boolean }): Promise<BuildResult<{ metafile: true }>>;
