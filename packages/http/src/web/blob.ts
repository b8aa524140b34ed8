import { ReadableStream } from './streams.js';
import { concatBytes, utf8Decode, utf8Encode } from './text.js';

export type BlobPart = Blob | ArrayBuffer | ArrayBufferView | string;

export interface BlobPropertyBag {
  type?: string;
  endings?: 'transparent' | 'native';
}

function partBytes(part: BlobPart): Uint8Array {
  if (part instanceof Blob) return part._bytes;
  if (part instanceof ArrayBuffer) return new Uint8Array(part.slice(0));
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength));
  return utf8Encode(String(part));
}

/** The type as the File API keeps it: lowercased, or empty when it holds a character outside U+0020-U+007E. */
function normalizeType(type: string | undefined): string {
  if (type === undefined) return '';
  const text = String(type);
  return /[^\x20-\x7e]/.test(text) ? '' : text.toLowerCase();
}

/** The File API's Blob, held in memory as one byte array. */
export class Blob {
  /** @internal */
  _bytes: Uint8Array;
  readonly type: string;

  constructor(parts: Iterable<BlobPart> = [], options: BlobPropertyBag = {}) {
    if (typeof parts !== 'object' || parts === null || typeof (parts as Iterable<BlobPart>)[Symbol.iterator] !== 'function') {
      throw new TypeError('Blob: the parts must be a sequence');
    }
    const chunks: Uint8Array[] = [];
    for (const part of parts) chunks.push(partBytes(part));
    this._bytes = chunks.length === 0 ? new Uint8Array(0) : concatBytes(chunks);
    this.type = normalizeType(options.type);
  }

  get size(): number {
    return this._bytes.length;
  }

  slice(start?: number, end?: number, contentType?: string): Blob {
    const size = this._bytes.length;
    const clamp = (value: number | undefined, fallback: number): number => {
      if (value === undefined) return fallback;
      const n = Math.trunc(Number(value)) || 0;
      return n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
    };
    const from = clamp(start, 0);
    const to = clamp(end, size);
    const blob = new Blob([], { type: contentType ?? '' });
    blob._bytes = this._bytes.slice(from, Math.max(from, to));
    return blob;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this._bytes.slice().buffer as ArrayBuffer);
  }

  bytes(): Promise<Uint8Array> {
    return Promise.resolve(this._bytes.slice());
  }

  text(): Promise<string> {
    return Promise.resolve(utf8Decode(this._bytes));
  }

  stream(): ReadableStream<Uint8Array> {
    const bytes = this._bytes;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (bytes.length) controller.enqueue(bytes.slice());
        controller.close();
      },
    });
  }

  get [Symbol.toStringTag](): string {
    return 'Blob';
  }
}

export interface FilePropertyBag extends BlobPropertyBag {
  lastModified?: number;
}

/** A Blob with a name, as form data carries uploads. */
export class File extends Blob {
  readonly name: string;
  readonly lastModified: number;

  constructor(parts: Iterable<BlobPart>, name: string, options: FilePropertyBag = {}) {
    super(parts, options);
    this.name = String(name);
    this.lastModified = options.lastModified ?? Date.now();
  }

  override get [Symbol.toStringTag](): string {
    return 'File';
  }
}
