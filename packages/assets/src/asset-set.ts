import { isRunningOnUos, native } from '@uos/x86';
import { ASSET_ENCODINGS, type AssetEncoding, type AssetRecord, decodeAssets } from './format.js';

declare const TextDecoder: { new (): { decode(bytes: Uint8Array): string } };

/** Payload section 5: the service's embedded files. */
const ASSETS_SECTION = 5;

/** The representation of an asset: its plain bytes or one of its content codings. */
export type AssetRepresentation = 'identity' | AssetEncoding;

/** One embedded file. */
export interface Asset {
  /** Relative to the assets folder, `/` between segments, no leading slash: `css/site.css`. */
  readonly path: string;
  /** The Content-Type recorded at build time (`text/css; charset=utf-8`). */
  readonly type: string;
  /** Bytes of the plain file. */
  readonly size: number;
  /** A strong entity tag of the plain bytes, quotes included. */
  readonly etag: string;
  /** The content codings made at build time because they were smaller, best first (`br`, `gzip`). */
  readonly encodings: readonly AssetEncoding[];
  /** Bytes of a representation, or undefined when the asset has no such variant. */
  sizeOf(representation?: AssetRepresentation): number | undefined;
  /** The entity tag of a representation: the plain tag, or the plain tag with `.br`/`.gz` inside the quotes. */
  etagOf(representation?: AssetRepresentation): string;
  /**
   * The bytes of a representation (default the plain file) as a view into the image itself, without a
   * copy. The image's pages are read-only: writing into this view ends the VM with a page fault, so
   * hand it only to code that reads (a Response body does); use `bytes()` for a copy you may change.
   */
  view(representation?: AssetRepresentation): Uint8Array;
  /** A copy of a representation's bytes (default the plain file). */
  bytes(representation?: AssetRepresentation): Uint8Array;
  /** The plain bytes as UTF-8 text. */
  text(): string;
}

class EmbeddedAsset implements Asset {
  readonly encodings: readonly AssetEncoding[];

  constructor(
    private readonly record: AssetRecord,
    private readonly data: Uint8Array,
  ) {
    this.encodings = ASSET_ENCODINGS.filter((e) => record[e] !== undefined);
  }

  get path(): string {
    return this.record.path;
  }
  get type(): string {
    return this.record.type;
  }
  get size(): number {
    return this.record.size;
  }
  get etag(): string {
    return this.record.etag;
  }

  sizeOf(representation: AssetRepresentation = 'identity'): number | undefined {
    return this.record[representation]?.[1];
  }

  etagOf(representation: AssetRepresentation = 'identity'): string {
    if (representation === 'identity') return this.record.etag;
    return `${this.record.etag.slice(0, -1)}.${representation === 'gzip' ? 'gz' : 'br'}"`;
  }

  view(representation: AssetRepresentation = 'identity'): Uint8Array {
    const range = this.record[representation];
    if (!range) return this.view('identity');
    return this.data.subarray(range[0], range[0] + range[1]);
  }

  bytes(representation: AssetRepresentation = 'identity'): Uint8Array {
    return this.view(representation).slice();
  }

  text(): string {
    return new TextDecoder().decode(this.view());
  }

  toJSON(): object {
    return { path: this.path, type: this.type, size: this.size, etag: this.etag, encodings: this.encodings };
  }
}

/** A read-only set of files by path. */
export class AssetSet {
  private readonly byPath = new Map<string, EmbeddedAsset>();
  private readonly sorted: EmbeddedAsset[];

  private constructor(records: readonly AssetRecord[], data: Uint8Array) {
    for (const record of records) {
      this.byPath.set(record.path, new EmbeddedAsset(record, data));
    }
    this.sorted = [...this.byPath.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** The set in an assets section (payload section 5, see `./format`); throws `AssetsError` when the bytes are broken. */
  static decode(section: Uint8Array): AssetSet {
    const { records, data } = decodeAssets(section);
    return new AssetSet(records, data);
  }

  /** A set with no files. */
  static empty(): AssetSet {
    return new AssetSet([], new Uint8Array(0));
  }

  /** The asset at `path` (`css/site.css` or `/css/site.css`), or undefined. */
  get(path: string): Asset | undefined {
    return this.byPath.get(path.charAt(0) === '/' ? path.slice(1) : path);
  }

  /** Every asset, by path. */
  list(): Asset[] {
    return this.sorted.slice();
  }

  /** How many assets there are. */
  get size(): number {
    return this.sorted.length;
  }

  /** Bytes of every asset's plain file. */
  get totalBytes(): number {
    let total = 0;
    for (const asset of this.sorted) total += asset.size;
    return total;
  }
}

let embedded: AssetSet | undefined;

/**
 * The files `uos build` embedded in this image (the service's `public/` folder, or `uos.assets` in its
 * package.json), read from the image on first use without copying; an empty set outside a uOS image and
 * in an image built without assets.
 */
export function embeddedAssets(): AssetSet {
  if (embedded) return embedded;
  const section = isRunningOnUos() ? native().payloadSection?.(ASSETS_SECTION) : undefined;
  embedded = section ? AssetSet.decode(new Uint8Array(section)) : AssetSet.empty();
  return embedded;
}

/** The image's assets: `assets.get('index.html')`, `assets.list()`. */
export const assets = {
  /** The asset at `path` (leading slash optional), or undefined. */
  get(path: string): Asset | undefined {
    return embeddedAssets().get(path);
  },
  /** Every embedded asset, by path. */
  list(): Asset[] {
    return embeddedAssets().list();
  },
};
