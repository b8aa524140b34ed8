import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CompileOptions, type CompileResult, loadCompiler } from './compiler.js';
import { X86PlatformError } from './errors.js';

export type BootProtocol = 'multiboot' | 'pvh';
export type Engine = 'compact' | 'full';
/**
 * How the engine and kernel were compiled: `size` (-Os, the smallest image) or `speed` (-O2: about a
 * third faster JS for about 170 KB more; docs/architecture/image-format.md has the measurements).
 */
export type Optimize = 'size' | 'speed';
export const OPTIMIZE_LEVELS: readonly Optimize[] = ['size', 'speed'];

/** The manifest's key for an engine at an optimisation level: `compact`, `full`, `compact-speed`, `full-speed`. */
export function variantKey(engine: Engine, optimize: Optimize = 'size'): string {
  return optimize === 'size' ? engine : `${engine}-${optimize}`;
}

/** platform/manifest.json. */
export interface PlatformManifest {
  /** Hash of everything that went into the native build. */
  inputHash: string;
  quickjs: { release: string; from: string; integrity: string; bignum: boolean };
  /**
   * The platform ELF of each engine (at each optimisation level: `variantKey`) and boot protocol, relative
   * to the platform directory. `compact` and `full` (size) are always there; `-speed` variants may not be.
   */
  images: Record<string, Record<BootProtocol, string>>;
  /**
   * The ELF64 to give gdb for each image. A published package ships none for multiboot (the images are
   * ELF32; their ELF64 twins stay in the source checkout); a PVH image is its own debug file.
   */
  debug: Record<string, Record<BootProtocol, string>>;
  /** The WebAssembly bytecode compiler. */
  compiler: string;
  /** Bytes of each image. */
  sizes: Record<string, number>;
}

export interface Platform {
  directory: string;
  manifest: PlatformManifest;
  /** The platform ELF for a boot protocol, engine (compact: no eval/new Function) and optimisation level (default size). */
  image(boot: BootProtocol, engine: Engine, optimize?: Optimize): string;
  /** The file to give gdb for an image built on this platform. */
  debugImage(boot: BootProtocol, engine: Engine, optimize?: Optimize): string;
  /** The WebAssembly bytecode compiler (a file). */
  compiler: string;
  /** Compiles JavaScript to bytecode for this platform's engine. */
  compile(source: string, options?: CompileOptions): Promise<CompileResult>;
}

/** Where this package's platform files are: `platform/` beside `dist/` (and `src/`). */
export const platformDirectory: string = fileURLToPath(new URL('../platform/', import.meta.url));

/** What to do about a missing or broken file in `directory`, for error messages. */
export function platformRemedy(directory: string = platformDirectory): string {
  if (existsSync(join(directory, '..', '..', 'x86', 'native'))) {
    return 'build it: `pnpm --filter @uos/x86-platform build` in the uOS repository (needs gcc, nasm, clang and wasi-libc: scripts/bootstrap.sh installs them)';
  }
  if (directory !== platformDirectory) return `put a complete uOS platform build in ${directory}`;
  return 'the installed @uos/x86-platform is incomplete: reinstall it (`pnpm install --force`, or delete node_modules and install again)';
}

function isManifest(value: unknown): value is PlatformManifest {
  const m = value as PlatformManifest;
  const names = (r: unknown): boolean =>
    typeof r === 'object' &&
    r !== null &&
    (['compact', 'full'] as const).every((e) =>
      (['multiboot', 'pvh'] as const).every((b) => typeof (r as PlatformManifest['images'])[e]?.[b] === 'string'),
    );
  return typeof m === 'object' && m !== null && typeof m.compiler === 'string' && names(m.images) && names(m.debug);
}

/** Reads the platform in `directory` (default: this package's). Files are checked when asked for. */
export function loadPlatform(directory: string = platformDirectory): Platform {
  const remedy = platformRemedy(directory);
  const manifestPath = join(directory, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new X86PlatformError('platform-missing', `the uOS platform is missing: there is no ${manifestPath}; ${remedy}`);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new X86PlatformError('platform-invalid', `the uOS platform manifest ${manifestPath} is not valid JSON; ${remedy}`, {
      cause: error,
    });
  }
  if (!isManifest(manifest)) {
    throw new X86PlatformError('platform-invalid', `the uOS platform manifest ${manifestPath} lacks images, debug or compiler; ${remedy}`);
  }
  const checked = manifest;
  const file = (name: string, what: string): string => {
    const full = join(directory, name);
    if (!existsSync(full))
      throw new X86PlatformError('platform-missing', `the uOS platform is incomplete: ${what} ${full} is missing; ${remedy}`);
    return full;
  };
  const compiler = join(directory, checked.compiler);
  return {
    directory,
    manifest: checked,
    image(boot, engine, optimize = 'size') {
      const key = variantKey(engine, optimize);
      const what = `the ${engine} ${boot} image${optimize === 'size' ? '' : ` optimised for ${optimize}`}`;
      const name = checked.images[key]?.[boot];
      if (name === undefined) {
        throw new X86PlatformError(
          'platform-missing',
          `the uOS platform in ${directory} lacks ${what} (no "${key}" in its manifest); ${remedy}`,
        );
      }
      return file(name, what);
    },
    debugImage(boot, engine, optimize = 'size') {
      const name = checked.debug[variantKey(engine, optimize)]?.[boot];
      const full = name === undefined ? undefined : join(directory, name);
      if (full !== undefined && existsSync(full)) return full;
      throw new X86PlatformError(
        'debug-image-missing',
        `the ELF64 with the symbols of the ${boot} ${engine} platform${optimize === 'size' ? '' : ` optimised for ${optimize}`} (${full ?? 'not in the manifest'}) is not published; ` +
          'debug a PVH image instead (`uos boot --machine microvm --gdb`: a PVH image is its own debug file), or use a source checkout of uOS',
      );
    },
    compiler,
    async compile(source, options) {
      return (await loadCompiler(compiler, remedy)).compile(source, options);
    },
  };
}
