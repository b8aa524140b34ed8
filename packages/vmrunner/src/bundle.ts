import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { type BuildOptions, type BuildResult, type Message, type Metafile, build } from 'esbuild';
import type { SourceMapV3 } from './line-map.js';
import { injectedModules } from './inject.js';
import { owningPackage } from './packages.js';
import { VmRunnerError } from './errors.js';
import { describeUnsupportedGlobal, findUnsupportedGlobals } from './unsupported-globals.js';

export interface Bundle {
  /** The bundled JavaScript (an IIFE, ES2020). */
  code: string;
  sourceMap: SourceMapV3;
  metafile: Metafile;
  /** Absolute path of the service's entry module. */
  entry: string;
  /** Packages that contribute code, largest first. */
  packages: { name: string; version: string; bytes: number }[];
  /** Things that build but will not work in the guest, e.g. a web global uOS does not provide; one line each. */
  warnings: string[];
}

/** The name the bundle carries inside the image; stack frames show it before mapping. */
export const BUNDLE_NAME = 'service.js';
/** The generated entry module; the kernel hides its frames (sources named "<…>") from stack traces. */
export const ENTRY_NAME = '<uos-entry>';

const ENTRY_CANDIDATES = ['service.ts', 'src/service.ts', 'src/index.ts', 'index.ts', 'service.js', 'src/index.js', 'index.js'];

/** Finds a service's entry module: package.json "uos.entry", else the first of ENTRY_CANDIDATES. */
export function resolveServiceEntry(serviceDir: string): string {
  if (!existsSync(serviceDir)) throw new VmRunnerError('service-not-found', `no service directory at ${serviceDir}`);
  const manifestPath = join(serviceDir, 'package.json');
  if (existsSync(manifestPath)) {
    let manifest: { uos?: { entry?: string } };
    try {
      manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { uos?: { entry?: string } };
    } catch (error) {
      throw new VmRunnerError('service-not-found', `${manifestPath} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    const entry = manifest.uos?.entry;
    if (entry) {
      const path = resolve(serviceDir, entry);
      if (!existsSync(path)) throw new VmRunnerError('service-not-found', `package.json "uos.entry" names ${entry}, which does not exist`);
      return path;
    }
  }
  for (const candidate of ENTRY_CANDIDATES) {
    const path = join(serviceDir, candidate);
    if (existsSync(path)) return path;
  }
  throw new VmRunnerError(
    'service-not-found',
    `no service entry in ${serviceDir}: add one of ${ENTRY_CANDIDATES.join(', ')} or set "uos": { "entry": … } in package.json`,
  );
}

function describeMessages(messages: Message[]): string {
  return messages
    .map((m) => {
      const where = m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : '';
      const source = m.location?.lineText.trim();
      const hint =
        m.id === 'ignored-bare-import'
          ? '\n  uOS keeps side-effect imports: a driver must list its entry file in "sideEffects" in its package.json,' +
            ' or this import would silently drop the driver from the image'
          : /Could not resolve "@uos\/kernel/.test(m.text)
            ? "\n  a service depends on @uos/kernel: add it to the service's package.json dependencies"
            : '';
      return `${where}${m.text}${source ? `\n  ${source}` : ''}${hint}`;
    })
    .join('\n');
}

/**
 * Bundles a service with esbuild so its import graph decides what the image holds: the kernel's globals
 * first, then the service module, then the call that starts it. Side-effect imports are kept, and a
 * side-effect import esbuild would drop (`ignored-bare-import`) fails the build. Globals that dependencies
 * provide (`"uos": { "inject": [...] }`, see inject.ts) come in only where the bundle names them.
 */
export async function bundleService(serviceDir: string): Promise<Bundle> {
  const dir = isAbsolute(serviceDir) ? serviceDir : resolve(serviceDir);
  const entry = resolveServiceEntry(dir);
  const contents = [
    "import '@uos/kernel/globals';",
    `import * as service from ${JSON.stringify(entry)};`,
    "import { startService } from '@uos/kernel';",
    'startService(service);',
    '',
  ].join('\n');
  const options = {
    stdin: { contents, resolveDir: dir, sourcefile: ENTRY_NAME, loader: 'js' },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'neutral',
    target: 'es2020',
    // QuickJS 2021-03-27 has private fields, methods and accessors (static too) and logical assignment
    // natively: esbuild keeps them instead of lowering them to ES2020. Lowered, every `#field` access is a
    // WeakMap call, and QuickJS's WeakMap holds its values strongly (no ephemerons), so an object whose
    // private field refers back to it is never freed (Hono's Context leaked five objects a request that
    // way). Public class fields stay lowered: QuickJS cannot parse a field named `get` or `set`
    // (`set = (key, value) => ...`, as Hono has). Not supported at all: `#field in object`, static blocks.
    supported: {
      'class-private-field': true,
      'class-private-method': true,
      'class-private-accessor': true,
      'class-private-static-field': true,
      'class-private-static-method': true,
      'class-private-static-accessor': true,
      'logical-assignment': true,
    },
    conditions: ['uos-source'],
    mainFields: ['module', 'main'],
    outfile: join(dir, 'build', BUNDLE_NAME),
    inject: injectedModules(entry),
    sourcemap: 'external',
    metafile: true,
    // No minification: QuickJS reports lines, not columns, so every statement keeps its own line.
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
    logOverride: { 'ignored-bare-import': 'error' },
    define: { 'process.env.NODE_ENV': '"production"' },
  } satisfies BuildOptions;
  let result: BuildResult<{ metafile: true; write: false }>;
  let warnings: string[];
  try {
    result = await build(options);
    warnings = (await findUnsupportedGlobals(options, dir)).map(describeUnsupportedGlobal);
  } catch (error) {
    const failure = error as { errors?: Message[] };
    if (failure.errors?.length) {
      throw new VmRunnerError('bundle-failed', `bundling ${dir} failed:\n${describeMessages(failure.errors)}`, { cause: error });
    }
    throw error;
  }
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text;
  const map = result.outputFiles.find((f) => f.path.endsWith('.js.map'))?.text;
  if (code === undefined || map === undefined) throw new VmRunnerError('bundle-failed', 'esbuild produced no output');
  const sourceMap = JSON.parse(map) as SourceMapV3;
  const sourceMapDir = join(dir, 'build');
  sourceMap.sources = sourceMap.sources.map((s) => {
    const path = decodeURIComponent(s);
    return path.endsWith(ENTRY_NAME) ? ENTRY_NAME : resolve(sourceMapDir, path);
  });

  const bytesByPackage = new Map<string, { name: string; version: string; bytes: number }>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (input === '<stdin>' || input.endsWith(ENTRY_NAME)) continue;
      const owner = owningPackage(resolve(process.cwd(), input));
      const name = owner?.name ?? '(service)';
      const entryInfo = bytesByPackage.get(name) ?? { name, version: owner?.version ?? '', bytes: 0 };
      entryInfo.bytes += bytesInOutput;
      bytesByPackage.set(name, entryInfo);
    }
  }
  const packages = [...bytesByPackage.values()].filter((p) => p.bytes > 0).sort((a, b) => b.bytes - a.bytes);
  return { code: code.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n'), sourceMap, metafile: result.metafile, entry, packages, warnings };
}
