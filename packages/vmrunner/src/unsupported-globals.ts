import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { firstMappingPerLine, type SourceMapV3 } from './line-map.js';
import { displayPath } from './packages.js';

/**
 * Well-known web globals that neither QuickJS 2021-03-27 nor @uos/http/web nor @uos/kernel/globals
 * provide, with what a service can do instead. A bundle that uses one builds, and the first call fails
 * with a bare "X is not defined"; `uos build` warns instead. Keep this in step with @uos/http/web: a name
 * it starts to export comes off this list (a unit test checks).
 */
export const UNSUPPORTED_GLOBALS: Readonly<Record<string, string>> = {
  CompressionStream:
    'uOS has no compression streams: drop hono/compress (or any compressing middleware) and serve precompressed bodies or compress in a proxy in front of the VM',
  DecompressionStream: 'uOS has no compression streams: decompress in a proxy in front of the VM, or bundle a JavaScript inflate library',
  URLPattern: 'match paths with your router (Hono) or bundle a URLPattern polyfill',
  WebAssembly: 'QuickJS has no WebAssembly engine: use a pure JavaScript build of the library',
  Worker: 'an image runs one JavaScript thread: do the work in the event loop, or in another VM',
  BroadcastChannel: 'an image is one process: use an EventTarget inside the service, or the network between VMs',
  EventSource: 'uOS has no HTTP client yet, so it cannot consume server-sent events (serving them works)',
  XMLHttpRequest: 'uOS has no HTTP client yet (fetch refuses too)',
  caches: 'uOS has no Cache API: keep responses in a Map in memory',
  indexedDB: 'uOS has no persistent storage: keep data in memory or in a service reached over the network',
};

const PROBE_PREFIX = '__uos_unsupported_';

export interface UnsupportedGlobalUse {
  /** The global's name, e.g. `CompressionStream`. */
  global: string;
  /** The modules that use it other than in `typeof` feature tests, as stack traces name them (`hono/dist/...`). */
  modules: string[];
  /** What to do instead. */
  advice: string;
}

/**
 * Finds the unsupported web globals a bundle uses. Runs esbuild a second time with `options` plus one
 * injected probe module per global: esbuild binds a free identifier to an injected export only where the
 * bundle really names it as a global (never a local of the same name, never a property of another
 * object), or as a property of `globalThis` (`globalThis.WebAssembly`, a common way to reach one), and tree-shakes
 * the probes nothing uses. Each probe's binding has a unique name, so the source map tells which module
 * each use comes from. A module whose every use is `typeof X` is feature-testing and is left out: it
 * works without the global. The real bundle is unchanged.
 */
export async function findUnsupportedGlobals(options: BuildOptions, serviceDir: string): Promise<UnsupportedGlobalUse[]> {
  const probeDir = mkdtempSync(join(tmpdir(), 'uos-probe-'));
  try {
    const probes = Object.keys(UNSUPPORTED_GLOBALS).map((name) => {
      const file = join(probeDir, `${name}.js`);
      // One binding for the bare name and for `globalThis.X` (esbuild injects dotted names as member expressions).
      const binding = `${PROBE_PREFIX}${name}`;
      writeFileSync(file, `const ${binding} = undefined;\nexport { ${binding} as ${name}, ${binding} as 'globalThis.${name}' };\n`);
      return file;
    });
    const result = await build({
      ...options,
      inject: [...(options.inject ?? []), ...probes],
      write: false,
      sourcemap: 'external',
      metafile: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
    const mapText = result.outputFiles.find((f) => f.path.endsWith('.js.map'))?.text;
    if (!mapText) return [];
    const map = JSON.parse(mapText) as SourceMapV3;
    const outDir = options.outfile ? resolve(options.outfile, '..') : process.cwd();
    const sources = map.sources.map((s) => resolve(outDir, decodeURIComponent(s)));
    return usesInBundle(code, sources, firstMappingPerLine(map), probeDir, serviceDir);
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
}

/** The probe references in a bundle, by global and module; exported for unit tests. */
export function usesInBundle(
  code: string,
  sources: readonly string[],
  lines: ReturnType<typeof firstMappingPerLine>,
  probeDir: string,
  serviceDir: string,
): UnsupportedGlobalUse[] {
  // global -> module -> whether some use is more than a typeof
  const found = new Map<string, Map<string, boolean>>();
  const pattern = new RegExp(`(typeof\\s+)?\\b${PROBE_PREFIX}([A-Za-z]+?)\\d*\\b`, 'g');
  const codeLines = code.split('\n');
  for (let index = 0; index < codeLines.length; index++) {
    const text = codeLines[index]!;
    if (!text.includes(PROBE_PREFIX)) continue;
    const mapping = lines[index];
    const source = mapping ? sources[mapping.source] : undefined;
    if (source?.startsWith(probeDir)) continue; // the probe's own declaration
    const module = source ? displayPath(source, serviceDir) : '(unknown module)';
    for (const match of text.matchAll(pattern)) {
      const name = match[2]!;
      if (!(name in UNSUPPORTED_GLOBALS)) continue;
      const modules = found.get(name) ?? new Map<string, boolean>();
      modules.set(module, (modules.get(module) ?? false) || match[1] === undefined);
      found.set(name, modules);
    }
  }
  const uses: UnsupportedGlobalUse[] = [];
  for (const [global, modules] of found) {
    const real = [...modules].filter(([, more]) => more).map(([module]) => module);
    if (real.length > 0) uses.push({ global, modules: real.sort(), advice: UNSUPPORTED_GLOBALS[global]! });
  }
  return uses.sort((a, b) => a.global.localeCompare(b.global));
}

/** The warning `uos build` prints for one use. */
export function describeUnsupportedGlobal(use: UnsupportedGlobalUse): string {
  return (
    `warning: ${use.modules.join(', ')} ${use.modules.length === 1 ? 'uses' : 'use'} ${use.global}, which uOS does not provide: ` +
    `the call will fail at run time with "ReferenceError: ${use.global} is not defined". ${use.advice}.`
  );
}
