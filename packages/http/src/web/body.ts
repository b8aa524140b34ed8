import { Blob } from './blob.js';
import { FormData, formDataToMultipart, parseFormData } from './form-data.js';
import { ReadableStream } from './streams.js';
import { concatBytes, utf8Decode, utf8Encode } from './text.js';
import { URLSearchParams } from './url/url-search-params.js';

/** A request body that arrives over the network (the server's side of an incoming request). */
export interface IncomingBody {
  /** The next bytes, or null at the end; rejects when the body cannot be had (the client went away). */
  read(): Promise<Uint8Array | null>;
  /** The rest of the body in one array. */
  readAll(): Promise<Uint8Array>;
  /** The reader is not interested: what is left is discarded. */
  cancel(reason?: unknown): void;
}

export type BodyInit = ReadableStream | Blob | ArrayBuffer | ArrayBufferView | FormData | URLSearchParams | string;

/** What a body holds before anyone reads it: text and bytes stay as they are until the server sends them. */
export type BodySource = string | Uint8Array | IncomingBody | ReadableStream | null;

/** Streams made from bytes (by `.body`), so that wrapping one in a new Response takes the bytes again. */
const byteStreams = new WeakMap<object, { bytes: Uint8Array; pulled: boolean }>();

function isIncoming(source: object): source is IncomingBody {
  return typeof (source as IncomingBody).readAll === 'function';
}

function toBytes(source: string | Uint8Array): Uint8Array {
  return typeof source === 'string' ? utf8Encode(source) : source;
}

/** A stream of `bytes` in one chunk, made only when someone asks for `.body`. */
export function streamOfBytes(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const record = { bytes, pulled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      record.pulled = true;
      if (bytes.length) controller.enqueue(bytes);
      controller.close();
    },
  });
  byteStreams.set(stream, record);
  return stream;
}

function streamOfIncoming(incoming: IncomingBody): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        return incoming.read().then((chunk) => (chunk ? controller.enqueue(chunk) : controller.close()));
      },
      cancel(reason) {
        incoming.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The Fetch standard's "extract a body": the source to keep and the Content-Type it implies. */
export function extractBody(init: unknown): { source: BodySource; contentType: string | null } {
  if (init === null || init === undefined) return { source: null, contentType: null };
  if (typeof init === 'string') return { source: init, contentType: 'text/plain;charset=UTF-8' };
  if (init instanceof Uint8Array) return { source: init, contentType: null };
  if (init instanceof ArrayBuffer) return { source: new Uint8Array(init.slice(0)), contentType: null };
  if (ArrayBuffer.isView(init)) {
    return { source: new Uint8Array(init.buffer.slice(init.byteOffset, init.byteOffset + init.byteLength)), contentType: null };
  }
  if (init instanceof Blob) return { source: init._bytes, contentType: init.type || null };
  if (init instanceof URLSearchParams) return { source: init.toString(), contentType: 'application/x-www-form-urlencoded;charset=UTF-8' };
  if (init instanceof FormData) {
    const { bytes, boundary } = formDataToMultipart(init);
    return { source: bytes, contentType: `multipart/form-data; boundary=${boundary}` };
  }
  if (typeof init === 'object' && typeof (init as ReadableStream).getReader === 'function') {
    const stream = init as ReadableStream;
    const record = byteStreams.get(stream);
    if (record && !record.pulled && !stream.locked) return { source: record.bytes, contentType: null };
    if (stream.locked) throw new TypeError('the body stream is locked (a reader holds it)');
    return { source: stream, contentType: null };
  }
  return { source: String(init), contentType: 'text/plain;charset=UTF-8' };
}

async function readStream(stream: ReadableStream): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!(value instanceof Uint8Array)) throw new TypeError('a body stream must yield Uint8Array chunks');
    chunks.push(value);
    total += value.length;
  }
  return concatBytes(chunks, total);
}

/**
 * The body half of Request and Response (the Fetch standard's Body mixin): the source as given, a stream
 * made only if `.body` is read, and the consumers (`text`, `json`, `arrayBuffer`, `bytes`, `blob`,
 * `formData`), each usable once.
 */
export abstract class Body {
  /** @internal */
  declare _source: BodySource;
  /** @internal */
  declare _stream: ReadableStream<Uint8Array> | null;
  /** @internal */
  declare _used: boolean;

  /** @internal the Content-Type to interpret the body with */
  abstract _contentType(): string | null;

  get body(): ReadableStream<Uint8Array> | null {
    if (this._stream) return this._stream;
    const source = this._source;
    if (source === null) return null;
    if (typeof source === 'string' || source instanceof Uint8Array) this._stream = streamOfBytes(toBytes(source));
    else if (isIncoming(source)) this._stream = streamOfIncoming(source);
    else this._stream = source as ReadableStream<Uint8Array>;
    return this._stream;
  }

  get bodyUsed(): boolean {
    if (this._used) return true;
    const record = this._stream ? byteStreams.get(this._stream) : undefined;
    return record ? record.pulled : false;
  }

  /** @internal the bytes, for every consumer */
  _consume(): Promise<Uint8Array> {
    if (this.bodyUsed) return Promise.reject(new TypeError('the body has already been read'));
    if (this._stream?.locked) return Promise.reject(new TypeError('the body stream is locked (a reader holds it)'));
    this._used = true;
    const source = this._source;
    if (source === null) return Promise.resolve(new Uint8Array(0));
    if (typeof source === 'string' || source instanceof Uint8Array) return Promise.resolve(toBytes(source));
    if (this._stream && this._stream !== source && !byteStreams.has(this._stream)) return readStream(this._stream);
    if (isIncoming(source)) return source.readAll();
    return readStream(source as ReadableStream);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this._consume().then((bytes) =>
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? (bytes.buffer as ArrayBuffer)
        : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer),
    );
  }

  bytes(): Promise<Uint8Array> {
    return this._consume();
  }

  text(): Promise<string> {
    if (typeof this._source === 'string' && !this.bodyUsed && !this._stream?.locked) {
      this._used = true;
      return Promise.resolve(this._source);
    }
    return this._consume().then(utf8Decode);
  }

  json(): Promise<unknown> {
    return this.text().then((text) => JSON.parse(text) as unknown);
  }

  blob(): Promise<Blob> {
    return this._consume().then((bytes) => new Blob([bytes], { type: this._contentType() ?? '' }));
  }

  formData(): Promise<FormData> {
    const type = this._contentType() ?? '';
    return this._consume().then((bytes) => parseFormData(bytes, type));
  }
}

/** A second body with the same content (Response.clone, Request.clone): shared bytes, or a tee of the stream. */
export function cloneBody(from: Body, to: Body): void {
  if (from.bodyUsed) throw new TypeError('cannot clone a body that has been read');
  const source = from._source;
  if (source === null || typeof source === 'string' || source instanceof Uint8Array) {
    to._source = source;
    return;
  }
  const stream = from.body!;
  if (stream.locked) throw new TypeError('cannot clone a body whose stream is locked');
  const [one, two] = stream.tee();
  from._source = from._stream = one;
  to._source = to._stream = two;
}

// Defaults on the prototype: an instance holds only what differs, so making one (per request) adds a few
// properties instead of a dozen.
Body.prototype._source = null;
Body.prototype._stream = null;
Body.prototype._used = false;
