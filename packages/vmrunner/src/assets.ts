import { createHash } from 'node:crypto';
import { type Dirent, existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import { type AssetInput, encodeAssets, pathProblem } from '@uos/assets/format';
import { VmRunnerError } from './errors.js';

/** The folder `uos build` embeds when package.json does not say otherwise. */
export const DEFAULT_ASSETS_FOLDER = 'public';
/** More than this many bytes of files (before compression) is refused: the image is loaded into RAM. */
export const MAX_ASSETS_BYTES = 128 * 1024 * 1024;

/** One embedded file as `uos build` reports it. */
export interface AssetSummary {
  path: string;
  type: string;
  size: number;
  /** Bytes of the variants kept (smaller than the file), when kept. */
  gzip?: number;
  br?: number;
}

export interface CollectedAssets {
  /** The folder the files came from. */
  folder: string;
  files: AssetSummary[];
  /** The payload section (kind 5). */
  section: Uint8Array;
}

const TEXT = '; charset=utf-8';
/** Content types by file extension; the rest is application/octet-stream. */
const CONTENT_TYPES: Record<string, string> = {
  html: `text/html${TEXT}`,
  htm: `text/html${TEXT}`,
  css: `text/css${TEXT}`,
  js: `text/javascript${TEXT}`,
  mjs: `text/javascript${TEXT}`,
  json: `application/json${TEXT}`,
  map: `application/json${TEXT}`,
  webmanifest: `application/manifest+json${TEXT}`,
  txt: `text/plain${TEXT}`,
  md: `text/markdown${TEXT}`,
  csv: `text/csv${TEXT}`,
  xml: `application/xml${TEXT}`,
  svg: `image/svg+xml${TEXT}`,
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  wasm: 'application/wasm',
  pdf: 'application/pdf',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  webm: 'video/webm',
  zip: 'application/zip',
};

/** The Content-Type for a file name. */
export function contentType(path: string): string {
  const dot = path.lastIndexOf('.');
  const extension = dot < 0 || dot < path.lastIndexOf('/') ? '' : path.slice(dot + 1).toLowerCase();
  return CONTENT_TYPES[extension] ?? 'application/octet-stream';
}

/** A strong entity tag: 128 bits of the SHA-256 of the bytes, base64url, quoted. */
export function entityTag(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`;
}

/** The assets folder a service names: `"uos": { "assets": "dir" | false }`, else `public/` when it exists. */
export function assetsFolder(serviceDir: string): string | undefined {
  const manifestPath = join(serviceDir, 'package.json');
  let setting: unknown;
  if (existsSync(manifestPath)) {
    try {
      setting = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { uos?: { assets?: unknown } }).uos?.assets;
    } catch {
      setting = undefined; // bundleService reports a broken package.json
    }
  }
  if (setting === false) return undefined;
  if (setting === undefined) {
    const folder = join(serviceDir, DEFAULT_ASSETS_FOLDER);
    return existsSync(folder) && statSync(folder).isDirectory() ? folder : undefined;
  }
  if (typeof setting !== 'string' || setting === '') {
    throw new VmRunnerError('assets-invalid', `package.json "uos.assets" must be a folder name or false, not ${JSON.stringify(setting)}`);
  }
  const folder = resolve(serviceDir, setting);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new VmRunnerError('assets-invalid', `package.json "uos.assets" names ${setting}, which is not a folder in ${serviceDir}`);
  }
  return folder;
}

/**
 * Every file under `folder` (dot files skipped, symbolic links followed except back up the tree), as
 * [path relative to folder, absolute path].
 */
function walk(folder: string): [string, string][] {
  const found: [string, string][] = [];
  const visit = (directory: string, ancestors: ReadonlySet<string>): void => {
    const real = realpathSync(directory);
    if (ancestors.has(real)) return; // a link back up the tree
    const inside = new Set(ancestors).add(real);
    let entries: Dirent[];
    try {
      entries = readdirSync(directory, { withFileTypes: true });
    } catch (error) {
      throw unreadable(directory, folder, error);
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.')) continue;
      const path = join(directory, entry.name);
      let stats: ReturnType<typeof statSync>;
      try {
        stats = statSync(path);
      } catch (error) {
        throw unreadable(path, folder, error);
      }
      if (stats.isDirectory()) visit(path, inside);
      else if (stats.isFile()) found.push([relative(folder, path).split(sep).join('/'), path]);
      else throw new VmRunnerError('assets-unreadable', `asset ${path} is not a regular file or a folder: uos build embeds files only`);
    }
  };
  visit(folder, new Set());
  return found;
}

function unreadable(path: string, folder: string, error: unknown): VmRunnerError {
  return new VmRunnerError(
    'assets-unreadable',
    `cannot read asset ${path} (in ${folder}): ${(error as Error).message.replace(/^[A-Z]+: /, '')}`,
    { cause: error },
  );
}

/**
 * Reads a service's assets folder into payload section 5: each file with its Content-Type, a strong ETag
 * and the gzip (level 9) and brotli (quality 11) variants that came out smaller. Undefined when the
 * service has no assets folder. A file that cannot be read fails the build naming it.
 */
export function collectAssets(serviceDir: string): CollectedAssets | undefined {
  const folder = assetsFolder(serviceDir);
  if (!folder) return undefined;
  const inputs: AssetInput[] = [];
  const files: AssetSummary[] = [];
  let total = 0;
  for (const [path, absolute] of walk(folder)) {
    const problem = pathProblem(path);
    if (problem) throw new VmRunnerError('assets-invalid', `asset ${absolute}: its path ${problem}`);
    let identity: Uint8Array;
    try {
      identity = new Uint8Array(readFileSync(absolute));
    } catch (error) {
      throw unreadable(absolute, folder, error);
    }
    total += identity.length;
    if (total > MAX_ASSETS_BYTES) {
      throw new VmRunnerError(
        'assets-invalid',
        `the assets in ${folder} pass ${MAX_ASSETS_BYTES >> 20} MiB (at ${path}); the image is loaded into RAM`,
      );
    }
    const type = contentType(path);
    const input: AssetInput = { path, type, etag: entityTag(identity), identity };
    const summary: AssetSummary = { path, type, size: identity.length };
    const gzip = new Uint8Array(gzipSync(identity, { level: 9 }));
    if (gzip.length < identity.length) {
      input.gzip = gzip;
      summary.gzip = gzip.length;
    }
    const br = new Uint8Array(
      brotliCompressSync(identity, {
        params: {
          [zlibConstants.BROTLI_PARAM_QUALITY]: 11,
          [zlibConstants.BROTLI_PARAM_SIZE_HINT]: identity.length,
          [zlibConstants.BROTLI_PARAM_MODE]: type.includes('charset') ? zlibConstants.BROTLI_MODE_TEXT : zlibConstants.BROTLI_MODE_GENERIC,
        },
      }),
    );
    if (br.length < identity.length) {
      input.br = br;
      summary.br = br.length;
    }
    inputs.push(input);
    files.push(summary);
  }
  return { folder, files, section: encodeAssets(inputs) };
}
