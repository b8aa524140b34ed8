// The shared tsup preset: every @uos package builds ESM + declarations from src/ with the same settings.
import type { Options } from 'tsup';

export function uosPreset(options: Options = {}): Options {
  return {
    format: ['esm'],
    target: 'es2020',
    dts: true,
    sourcemap: true,
    clean: true,
    // Entries of one package share chunks: one copy of each module (and of each class, so instanceof holds
    // across subpaths), not one per entry.
    splitting: true,
    outDir: 'dist',
    ...options,
  };
}
