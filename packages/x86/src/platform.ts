/**
 * @uos/x86/platform: the native build of a source checkout (packages/x86/platform/: the images, their ELF64
 * debug twins and the native reference compiler uos-jsc), for the repository's tools and tests. Node only.
 * Published packages carry no platform here: `uos build` uses @uos/x86-platform's images and WebAssembly
 * compiler.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { X86Error } from './errors.js';

export type BootProtocol = 'multiboot' | 'pvh';
export type Engine = 'compact' | 'full';

export interface PlatformManifest {
  inputHash: string;
  quickjs: { release: string; from: string; integrity: string; bignum: boolean };
  /** By engine at each optimisation level: compact, full (-Os) and compact-speed, full-speed (-O2). */
  images: Record<string, Record<BootProtocol, string>>;
  /** ELF64 files with full symbols for gdb (the multiboot images themselves are ELF32). */
  debug: Record<string, Record<BootProtocol, string>>;
  compiler: string;
  sizes: Record<string, number>;
}

export interface Platform {
  directory: string;
  manifest: PlatformManifest;
  /** The platform ELF for a boot protocol and engine (compact: no eval/new Function). */
  image(boot: BootProtocol, engine: Engine, optimize?: 'size' | 'speed'): string;
  /** The file to give gdb for an image built on this platform. */
  debugImage(boot: BootProtocol, engine: Engine, optimize?: 'size' | 'speed'): string;
  /** The host compiler producing bytecode for this engine build. */
  compiler: string;
}

export const platformDirectory: string = fileURLToPath(new URL('../platform/', import.meta.url));

export function loadPlatform(directory: string = platformDirectory): Platform {
  const manifestPath = join(directory, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new X86Error(
      'platform-missing',
      `the uOS native platform is not built (no ${manifestPath}); run \`pnpm --filter @uos/x86 build\``,
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as PlatformManifest;
  const path = (file: string): string => {
    const full = join(directory, file);
    if (!existsSync(full)) throw new X86Error('platform-missing', `the uOS native platform is incomplete: ${full} is missing`);
    return full;
  };
  return {
    directory,
    manifest,
    image: (boot, engine, optimize = 'size') => path(manifest.images[optimize === 'size' ? engine : `${engine}-${optimize}`]![boot]),
    debugImage: (boot, engine, optimize = 'size') => path(manifest.debug[optimize === 'size' ? engine : `${engine}-${optimize}`]![boot]),
    compiler: path(manifest.compiler),
  };
}
