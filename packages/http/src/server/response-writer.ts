import { Response } from '../web/response.js';
import type { ReadableStream, ReadableStreamDefaultReader } from '../web/streams.js';
import { latin1Encode, utf8Encode } from '../web/text.js';
import { type Framing, declaredLength, encodeHead, responseHead } from './response-head.js';

/** Where a response goes: `send` takes bytes and says when they are all in the send buffer. */
export interface ResponseSink {
  /** true: all taken now; a promise: the rest is being written (resolves false if the connection went); false: gone. */
  send(bytes: Uint8Array): boolean | Promise<boolean>;
}

export interface WriteOptions {
  /** The request was HEAD: the head as for GET, no body. */
  isHead: boolean;
  minorVersion: number;
  /** The connection ends after this response. */
  close: boolean;
  date: string;
}

export interface WriteOutcome {
  status: number;
  /** The connection must end after this response (a close-delimited body, or it was asked). */
  close: boolean;
  /** true when all is written; else resolves true when it is, false when it could not be (close the connection). */
  done: true | Promise<boolean>;
  /** Stops a streamed body (the client went away). */
  cancel?: () => void;
}

/** Bodies up to this size go out in the same write as the head (one segment when they fit). */
const COALESCE_LIMIT = 64 * 1024;
const LAST_CHUNK = latin1Encode('0\r\n\r\n');
const CRLF = 0x0d0a;

function joined(head: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

function settle(result: boolean | Promise<boolean>): true | Promise<boolean> {
  return result === true ? true : result === false ? Promise.resolve(false) : result;
}

/** One chunk in chunked coding: size in hex, CRLF, data, CRLF, in one array. */
function frame(chunk: Uint8Array): Uint8Array {
  const size = chunk.length.toString(16);
  const out = new Uint8Array(size.length + 2 + chunk.length + 2);
  for (let i = 0; i < size.length; i++) out[i] = size.charCodeAt(i);
  out[size.length] = 0x0d;
  out[size.length + 1] = 0x0a;
  out.set(chunk, size.length + 2);
  out[out.length - 2] = CRLF >> 8;
  out[out.length - 1] = CRLF & 0xff;
  return out;
}

/**
 * Writes a handler's response. Text and bytes (the usual case) go out with a Content-Length, head and body
 * in one write. A stream is pulled one chunk at a time and the next chunk is read only when the last is in
 * the send buffer, so a client that stops reading holds the stream still and costs a send buffer; it goes
 * out chunked in HTTP/1.1 (or with the Content-Length the handler declared), close-delimited in 1.0.
 * Returns 'invalid' when `response` is not a usable Response.
 */
export function writeResponse(sink: ResponseSink, response: Response, options: WriteOptions): WriteOutcome | 'invalid' {
  if (!(response instanceof Response) || response._status === 0 || response.bodyUsed) return 'invalid';
  const status = response._status;
  const bodyless = options.isHead || status === 204 || status === 304;
  const framing: Framing = {
    contentLength: -1,
    chunked: false,
    close: options.close,
    keepAlive: options.minorVersion === 0 && !options.close,
  };
  const source = response._source;

  if (source === null || typeof source === 'string' || source instanceof Uint8Array) {
    if (source === null) {
      // A HEAD response without a body says nothing of GET's length (Hono answers HEAD with GET's response, body dropped).
      if (status !== 204 && status !== 304 && !options.isHead) framing.contentLength = 0;
      return { status, close: framing.close, done: settle(sink.send(encodeHead(responseHead(response, status, framing, options.date)))) };
    }
    if (typeof source === 'string' && !bodyless) {
      // Assume ASCII: then the string's length is its byte count, and head and body encode in one native
      // call; the encoded length tells whether the assumption held (else encode them apart).
      framing.contentLength = source.length;
      const head = responseHead(response, status, framing, options.date);
      const bytes = utf8Encode(head + source);
      if (bytes.length === head.length + source.length) return { status, close: framing.close, done: settle(sink.send(bytes)) };
    }
    const body = typeof source === 'string' ? utf8Encode(source) : source;
    framing.contentLength = status === 204 || status === 304 ? -1 : body.length;
    const head = encodeHead(responseHead(response, status, framing, options.date));
    if (bodyless) return { status, close: framing.close, done: settle(sink.send(head)) };
    if (body.length <= COALESCE_LIMIT) return { status, close: framing.close, done: settle(sink.send(joined(head, body))) };
    const first = sink.send(head);
    const done = first === false ? Promise.resolve(false) : Promise.resolve(first).then((ok) => ok && sink.send(body));
    return { status, close: framing.close, done: done.then((ok) => ok === true) };
  }

  // A stream (the handler's ReadableStream, or a request body passed through).
  const stream = response.body as ReadableStream<Uint8Array>;
  const declared = declaredLength(response);
  if (bodyless) {
    stream.cancel().catch(() => {});
    if (options.isHead && declared >= 0) framing.contentLength = declared;
    return { status, close: framing.close, done: settle(sink.send(encodeHead(responseHead(response, status, framing, options.date)))) };
  }
  if (declared >= 0) framing.contentLength = declared;
  else if (options.minorVersion === 1) framing.chunked = true;
  else framing.close = true;
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = stream.getReader();
  } catch {
    return 'invalid';
  }
  let cancelled = false;
  const cancel = (): void => {
    if (cancelled) return;
    cancelled = true;
    reader.cancel().catch(() => {});
  };
  const head = sink.send(encodeHead(responseHead(response, status, framing, options.date)));
  const done =
    head === false
      ? Promise.resolve(false)
      : Promise.resolve(head).then((ok) => ok && pump(sink, reader, framing.chunked, declared, cancel));
  return { status, close: framing.close, done, cancel };
}

async function pump(
  sink: ResponseSink,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  chunked: boolean,
  declared: number,
  cancel: () => void,
): Promise<boolean> {
  let sent = 0;
  for (;;) {
    let chunk: Uint8Array;
    try {
      const next = await reader.read();
      if (next.done) break;
      chunk = next.value;
    } catch {
      return false; // the stream errored: the response cannot be completed
    }
    if (!(chunk instanceof Uint8Array)) {
      cancel();
      return false;
    }
    if (chunk.length === 0) continue;
    sent += chunk.length;
    if (declared >= 0 && sent > declared) {
      cancel();
      return false;
    }
    const written = sink.send(chunked ? frame(chunk) : chunk);
    if (written === false || (written !== true && !(await written))) {
      cancel();
      return false;
    }
  }
  if (declared >= 0 && sent !== declared) return false;
  if (!chunked) return true;
  const last = sink.send(LAST_CHUNK);
  return last === true ? true : last === false ? false : last;
}
