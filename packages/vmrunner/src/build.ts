import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type BootProtocol, type CompileResult, type Engine, type Optimize, type Platform, loadPlatform } from '@uos/x86-platform';
import { type AssetSummary, collectAssets } from './assets.js';
import { BUNDLE_NAME, type Bundle, ENTRY_NAME, bundleService } from './bundle.js';
import { readSymbols } from './elf.js';
import { encodeLineMap, firstMappingPerLine } from './line-map.js';
import { owningPackage, displayPath } from './packages.js';
import { PayloadKind, type PayloadSection, encodePayload, joinImage } from './payload.js';
import { encodeSymbols } from './symbols.js';
import { VmRunnerError } from './errors.js';

export type EvalMode = 'auto' | 'on' | 'off';
/** `auto`: `speed` for a networked service (it bundles @uos/net or a NIC driver), else `size`. */
export type OptimizeMode = 'auto' | Optimize;

export interface BuildOptions {
  /** The service package directory. */
  serviceDir: string;
  /** Where to write the image; default `<serviceDir>/build/<name>.elf` (`<name>.pvh.elf` for PVH). */
  output?: string;
  /** multiboot (default; boots on pc, q35 and microvm) or pvh (microvm's fast path). */
  boot?: BootProtocol;
  /** Whether the engine can compile strings (eval, new Function); `auto` looks for them in the bundle. */
  eval?: EvalMode;
  /**
   * The platform's optimisation level: `size` (-Os, the smallest image), `speed` (-O2: the engine runs
   * JS about a third faster, the image is about 170 KB larger), or `auto` (default): `speed` when the
   * service bundles @uos/net or a NIC driver, where the engine's speed is the network's, else `size`.
   */
  optimize?: OptimizeMode;
  /** Embed native symbols for backtraces (default true). */
  symbols?: boolean;
  /** Override the platform directory (tests). */
  platformDirectory?: string;
}

export interface BuildResult {
  image: string;
  imageBytes: number;
  boot: BootProtocol;
  engine: Engine;
  optimize: Optimize;
  serviceName: string;
  entry: string;
  bundleBytes: number;
  bytecodeBytes: number;
  payloadBytes: number;
  packages: Bundle['packages'];
  metafile: Bundle['metafile'];
  /** What builds but will not work in the guest (a web global uOS lacks, ...): one line each, for stderr. */
  warnings: string[];
  /** The files embedded from the service's assets folder (payload section 5), when it has one. */
  assets?: { folder: string; files: AssetSummary[]; sectionBytes: number };
}

/**
 * Does the bundle generate code from strings? Conservative: an `eval` identifier or a `Function(` call
 * anywhere outside quoted strings and comments. One pass that knows where strings and comments start;
 * template literals and regular expressions count as code, which can only err towards the full engine.
 */
export function needsEval(code: string): boolean {
  let stripped = '';
  let i = 0;
  while (i < code.length) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === '/' && next === '*') {
      const end = code.indexOf('*/', i + 2);
      i = end < 0 ? code.length : end + 2;
      stripped += ' ';
    } else if (c === '/' && next === '/') {
      const end = code.indexOf('\n', i + 2);
      i = end < 0 ? code.length : end;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < code.length && code[j] !== c && code[j] !== '\n') j += code[j] === '\\' ? 2 : 1;
      i = j + 1;
      stripped += '""';
    } else {
      stripped += c;
      i++;
    }
  }
  return /\beval\b|\bFunction\s*\(/.test(stripped);
}

/** Packages whose presence makes `--optimize auto` pick speed: the network stack and NIC drivers. */
export function isNetworked(packages: readonly { name: string }[]): boolean {
  return packages.some((p) => p.name === '@uos/net' || p.name.startsWith('@uos/driver-'));
}

/** Adds the TypeScript location to every `service.js:<line>` in QuickJS's report: `service.js:12 (service.ts:4)`. */
function mapBundleLines(report: string, sources: readonly string[], lines: ReturnType<typeof firstMappingPerLine>): string {
  const pattern = new RegExp(`${BUNDLE_NAME.replace('.', '\\.')}:(\\d+)`, 'g');
  return report.replace(pattern, (match, line: string) => {
    const mapping = lines[Number(line) - 1];
    const source = mapping && sources[mapping.source];
    return source && source !== ENTRY_NAME ? `${match} (${source}:${mapping.line})` : match;
  });
}

async function compileBytecode(
  platform: Platform,
  bundle: Bundle,
  sources: readonly string[],
  lines: ReturnType<typeof firstMappingPerLine>,
): Promise<Uint8Array> {
  let result: CompileResult;
  try {
    result = await platform.compile(bundle.code, { filename: BUNDLE_NAME });
  } catch (error) {
    // A missing or broken compiler: its message names the file and what to do.
    throw new VmRunnerError('bytecode-failed', `QuickJS could not compile the bundle: ${(error as Error).message}`, { cause: error });
  }
  if (!result.ok) {
    throw new VmRunnerError('bytecode-failed', `QuickJS could not compile the bundle:\n${mapBundleLines(result.error, sources, lines)}`);
  }
  return result.bytecode;
}

/** Bundles a service, compiles it to QuickJS bytecode and joins it with the prebuilt platform. */
export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const serviceDir = resolve(options.serviceDir);
  const platform = loadPlatform(options.platformDirectory);
  const bundle = await bundleService(serviceDir);
  const mode = options.eval ?? 'auto';
  const engine: Engine = mode === 'on' || (mode === 'auto' && needsEval(bundle.code)) ? 'full' : 'compact';
  const boot = options.boot ?? 'multiboot';
  const optimizeMode = options.optimize ?? 'auto';
  const optimize: Optimize = optimizeMode === 'auto' ? (isNetworked(bundle.packages) ? 'speed' : 'size') : optimizeMode;
  const platformPath = platform.image(boot, engine, optimize);
  const platformBytes = new Uint8Array(readFileSync(platformPath));

  const sources = bundle.sourceMap.sources.map((s) => (s === ENTRY_NAME ? s : displayPath(s, serviceDir)));
  const lines = firstMappingPerLine(bundle.sourceMap);
  const bytecode = await compileBytecode(platform, bundle, sources, lines);
  const owner = owningPackage(join(serviceDir, 'package.json'));
  const serviceName = owner?.directory === serviceDir ? owner.name : basename(serviceDir);
  const lineMap = encodeLineMap(BUNDLE_NAME, sources, lines);
  const info = new TextEncoder().encode(
    JSON.stringify({
      service: serviceName,
      engine,
      boot,
      optimize,
      packages: bundle.packages.map((p) => `${p.name}@${p.version}`),
    }),
  );
  const sections: PayloadSection[] = [
    { kind: PayloadKind.bytecode, data: bytecode },
    { kind: PayloadKind.lineMap, data: lineMap },
    { kind: PayloadKind.info, data: info },
  ];
  const assets = collectAssets(serviceDir);
  if (assets) sections.push({ kind: PayloadKind.assets, data: assets.section });
  if (options.symbols ?? true) {
    const symbols = readSymbols(platformBytes);
    const start = symbols.find((s) => s.name === '__kernel_start')?.value;
    const end = symbols.find((s) => s.name === '__text_end')?.value;
    if (start !== undefined && end !== undefined) sections.push({ kind: PayloadKind.symbols, data: encodeSymbols(symbols, start, end) });
  }
  const payload = encodePayload(sections);
  const image = joinImage(platformBytes, payload);
  const fileName = `${serviceName.replace(/^@/, '').replace(/\//g, '-')}${boot === 'pvh' ? '.pvh' : ''}.elf`;
  const output = resolve(options.output ?? join(serviceDir, 'build', fileName));
  mkdirSync(dirname(output), { recursive: true });
  // Write then rename, so a VM starting from the same path never reads half an image.
  const temporary = `${output}.${process.pid}.tmp`;
  writeFileSync(temporary, image);
  renameSync(temporary, output);
  return {
    image: output,
    imageBytes: image.length,
    boot,
    engine,
    optimize,
    serviceName,
    entry: bundle.entry,
    bundleBytes: Buffer.byteLength(bundle.code),
    bytecodeBytes: bytecode.length,
    payloadBytes: payload.length,
    packages: bundle.packages,
    metafile: bundle.metafile,
    warnings: bundle.warnings,
    ...(assets ? { assets: { folder: assets.folder, files: assets.files, sectionBytes: assets.section.length } } : {}),
  };
}
