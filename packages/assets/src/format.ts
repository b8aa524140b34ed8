/**
 * The assets section of a uOS image (payload section 5), written by `uos build` on the host and read by
 * the service in the guest. Little-endian:
 *
 * ```
 * u8[8] magic = "UOSASSET"; u32 version = 1; u32 indexLength
 * index   indexLength bytes of UTF-8 JSON, then zero bytes up to a multiple of 8
 * data    the files' bytes; every range in the index is [offset, length] from the start of data
 * index = { "files": [ { "path": "css/site.css", "type": "text/css; charset=utf-8", "etag": "\"…\"",
 *                        "size": 1234, "identity": [0, 1234], "gzip": [1234, 400], "br": [1634, 350] } ] }
 * ```
 *
 * `path` is relative to the assets folder, with `/` between segments and no leading slash; `gzip` and
 * `br` are present only when that encoding made the file smaller. Pure code (no Node modules): the host
 * side compresses and hashes, this module only lays the bytes out and checks them.
 */
import { AssetsError } from './errors.js';

declare const TextEncoder: { new (): { encode(text: string): Uint8Array } };
declare const TextDecoder: { new (label?: string, options?: { fatal?: boolean }): { decode(bytes: Uint8Array): string } };

export const ASSETS_MAGIC = 'UOSASSET';
export const ASSETS_VERSION = 1;
const HEADER_BYTES = 16;

/** Content codings an asset may carry besides its plain bytes. */
export type AssetEncoding = 'br' | 'gzip';
export const ASSET_ENCODINGS: readonly AssetEncoding[] = ['br', 'gzip'];

/** `[offset, length]` inside the section's data. */
export type ByteRange = [number, number];

/** One file as the index records it. */
export interface AssetRecord {
  path: string;
  /** The Content-Type to send. */
  type: string;
  /** A strong entity tag for the plain bytes, quotes included. */
  etag: string;
  /** Bytes of the plain file. */
  size: number;
  identity: ByteRange;
  gzip?: ByteRange;
  br?: ByteRange;
}

/** A file to embed: its plain bytes and the encoded variants worth keeping. */
export interface AssetInput {
  path: string;
  type: string;
  etag: string;
  identity: Uint8Array;
  gzip?: Uint8Array;
  br?: Uint8Array;
}

/** Lays files out as an assets section. Paths must be unique; they are sorted for a stable image. */
export function encodeAssets(files: readonly AssetInput[]): Uint8Array {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const records: AssetRecord[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const place = (bytes: Uint8Array): ByteRange => {
    const range: ByteRange = [offset, bytes.length];
    chunks.push(bytes);
    offset += bytes.length;
    return range;
  };
  for (let i = 0; i < sorted.length; i++) {
    const file = sorted[i]!;
    const problem = pathProblem(file.path);
    if (problem) throw new AssetsError('assets-invalid', `asset path ${JSON.stringify(file.path)} ${problem}`);
    if (i > 0 && sorted[i - 1]!.path === file.path) throw new AssetsError('assets-invalid', `asset path ${file.path} appears twice`);
    const record: AssetRecord = {
      path: file.path,
      type: file.type,
      etag: file.etag,
      size: file.identity.length,
      identity: place(file.identity),
    };
    if (file.gzip) record.gzip = place(file.gzip);
    if (file.br) record.br = place(file.br);
    records.push(record);
  }
  const index = new TextEncoder().encode(JSON.stringify({ files: records }));
  const dataStart = HEADER_BYTES + Math.ceil(index.length / 8) * 8;
  const out = new Uint8Array(dataStart + offset);
  for (let i = 0; i < ASSETS_MAGIC.length; i++) out[i] = ASSETS_MAGIC.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(8, ASSETS_VERSION, true);
  view.setUint32(12, index.length, true);
  out.set(index, HEADER_BYTES);
  let at = dataStart;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Why `path` cannot name an asset, or undefined when it can. */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.startsWith('/')) return 'starts with a slash';
  if (/[\0\\]/.test(path)) return 'contains a NUL or a backslash';
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return 'has an empty, "." or ".." segment';
  }
  return undefined;
}

function invalid(message: string): never {
  throw new AssetsError('assets-invalid', `the assets section is invalid: ${message}`);
}

function checkRange(value: unknown, dataLength: number, what: string): ByteRange {
  if (!Array.isArray(value) || value.length !== 2) invalid(`${what} is not an [offset, length] pair`);
  const [offset, length] = value as [unknown, unknown];
  if (!Number.isInteger(offset) || !Number.isInteger(length) || (offset as number) < 0 || (length as number) < 0) {
    invalid(`${what} has a negative or fractional bound`);
  }
  if ((offset as number) + (length as number) > dataLength) invalid(`${what} lies outside the section`);
  return [offset as number, length as number];
}

/** Reads an assets section back: its records, checked against the section's bounds, and its data. */
export function decodeAssets(section: Uint8Array): { records: AssetRecord[]; data: Uint8Array } {
  if (section.length < HEADER_BYTES) invalid(`${section.length} bytes is shorter than its header`);
  for (let i = 0; i < ASSETS_MAGIC.length; i++) if (section[i] !== ASSETS_MAGIC.charCodeAt(i)) invalid('no UOSASSET magic');
  const view = new DataView(section.buffer, section.byteOffset, section.byteLength);
  const version = view.getUint32(8, true);
  if (version !== ASSETS_VERSION) invalid(`version ${version} is not ${ASSETS_VERSION}`);
  const indexLength = view.getUint32(12, true);
  const dataStart = HEADER_BYTES + Math.ceil(indexLength / 8) * 8;
  if (dataStart > section.length) invalid('the index runs past the end');
  let index: unknown;
  try {
    index = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(section.subarray(HEADER_BYTES, HEADER_BYTES + indexLength)));
  } catch (error) {
    invalid(`the index is not UTF-8 JSON (${(error as Error).message})`);
  }
  const files = (index as { files?: unknown } | null)?.files;
  if (!Array.isArray(files)) invalid('the index has no "files" list');
  const data = section.subarray(dataStart);
  const records = files.map((file: unknown, i: number): AssetRecord => {
    const f = file as Partial<Record<keyof AssetRecord, unknown>> | null;
    const what = `file ${i}`;
    if (typeof f !== 'object' || f === null) invalid(`${what} is not an object`);
    if (typeof f.path !== 'string' || pathProblem(f.path)) invalid(`${what} has no valid path`);
    if (typeof f.type !== 'string' || typeof f.etag !== 'string') invalid(`${f.path} has no type or etag`);
    const record: AssetRecord = {
      path: f.path,
      type: f.type,
      etag: f.etag,
      size: 0,
      identity: checkRange(f.identity, data.length, `${f.path}'s bytes`),
    };
    record.size = record.identity[1];
    if (f.size !== record.size) invalid(`${f.path}'s size ${String(f.size)} is not its length ${record.size}`);
    for (const encoding of ASSET_ENCODINGS) {
      if (f[encoding] !== undefined) record[encoding] = checkRange(f[encoding], data.length, `${f.path}'s ${encoding} bytes`);
    }
    return record;
  });
  return { records, data };
}
