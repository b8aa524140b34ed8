import { type RequestHead, parseRequestHead } from './head.js';
import { utf8Decode, utf8Encode } from '../web/text.js';
import { CHUNK_LINE, CR, FIELD_LINE, LF, type ParseErrorKind, latin1 } from './syntax.js';

/** The parser's limits (the server's defaults are in server/limits.ts). */
export interface ParserLimits {
  /** The request line and field lines, CRLFs included; more answers 431 (trailers count the same). */
  maxHeadBytes: number;
  /** The request line alone; more answers 414. */
  maxRequestLineBytes: number;
  /** Field lines in a head (or trailer section); more answers 431. */
  maxHeaders: number;
  /** Body bytes, declared or chunked; more answers 413. */
  maxBodyBytes: number;
}

/** The last head parsed: its text and the result (see RequestParser's constructor). */
export interface HeadCache {
  text: string;
  head: RequestHead | undefined;
}

/** What the parser reports, in order, for each request. */
export interface ParserSink {
  /**
   * A complete, valid head. The body (if any) follows through onBody, then onMessageComplete. The head
   * is read-only: a request whose head is byte for byte the last one's gets the same object.
   */
  onHead(head: RequestHead): void;
  /** Body bytes, dechunked: views into the pushed chunks, never written to afterwards. */
  onBody(data: Uint8Array): void;
  /** The request (body and trailers included) is complete; the next one may follow. */
  onMessageComplete(): void;
  /** The request cannot be parsed; the parser stops for good (the connection must close after answering). */
  onError(kind: ParseErrorKind): void;
}

/** The longest chunk-size line (size and extensions) accepted. */
const MAX_CHUNK_LINE = 4096;
const EMPTY = new Uint8Array(0);
const DETACHED_SINK: ParserSink = { onHead() {}, onBody() {}, onMessageComplete() {}, onError() {} };

const HEAD = 0;
const BODY = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_DATA_END = 4;
const TRAILERS = 5;
const FAILED = 6;

/**
 * An incremental HTTP/1.1 request parser: bytes go in as they arrive (`push`), in chunks of any size, and
 * the same requests come out however they were split. Requests follow one another on a connection
 * (pipelining); `pause()` (from a sink callback or outside) keeps the bytes that follow for `resume()`, so
 * a server answers one request at a time.
 *
 * Invariants: it never throws on input and never holds more than the head limit of unparsed bytes (plus
 * what arrives while paused, which the caller bounds by pausing its socket); a head is scanned once (the
 * search for the next LF resumes where the last stopped); body bytes are handed over as views, never
 * copied; after an error it ignores everything.
 */
export class RequestParser {
  /** Unconsumed bytes are buffer[position, end). */
  private buffer: Uint8Array = EMPTY;
  private position = 0;
  private end = 0;
  /** Whether `buffer` is our own accumulation buffer (else a chunk the caller pushed). */
  private owned = false;
  private state = HEAD;
  private paused = false;
  /** Inside run(): a resume() from a sink callback lets the running loop go on instead of nesting one. */
  private running = false;
  /** Head/trailer scan, relative to `position`: bytes already searched, where the current line starts, lines seen. */
  private scanned = 0;
  private lineStart = 0;
  private lines = 0;
  /** Body bytes left in the message (BODY) or the chunk (CHUNK_DATA). */
  private remaining = 0;
  private bodyBytes = 0;

  /**
   * `cache` holds the last head's text and what it parsed to, and may be shared by the parsers of one
   * server: clients repeat their requests byte for byte (wrk, ab, health checks, polling), on one
   * connection and across them, and a head that was parsed once is not parsed again.
   */
  constructor(
    private sink: ParserSink,
    private readonly limits: ParserLimits,
    private readonly cache: HeadCache = { text: '', head: undefined },
  ) {}

  /** Stops for good and lets go of the sink and the buffered bytes (the connection is gone). */
  detach(): void {
    this.sink = DETACHED_SINK;
    this.state = FAILED;
    this.buffer = EMPTY;
    this.position = this.end = 0;
  }

  /** Whether the parser is between requests with nothing buffered (a connection closing now loses nothing). */
  get idle(): boolean {
    return this.state === HEAD && this.position === this.end;
  }

  /** Whether a request has started (bytes of it arrived) and is not complete yet. */
  get inMessage(): boolean {
    return this.state === HEAD ? this.position < this.end : this.state !== FAILED;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get failed(): boolean {
    return this.state === FAILED;
  }

  /** Unparsed bytes held (while paused, or of an incomplete head). */
  get bufferedBytes(): number {
    return this.end - this.position;
  }

  push(chunk: Uint8Array): void {
    if (this.state === FAILED || chunk.length === 0) return;
    if (this.position === this.end) {
      this.buffer = chunk;
      this.position = 0;
      this.end = chunk.length;
      this.owned = false;
    } else {
      this.append(chunk);
    }
    if (!this.paused && !this.running) this.run();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.state !== FAILED && !this.running) this.run();
  }

  private append(chunk: Uint8Array): void {
    const held = this.end - this.position;
    const needed = held + chunk.length;
    if (this.owned && this.position + needed <= this.buffer.length) {
      this.buffer.set(chunk, this.end);
      this.end += chunk.length;
      return;
    }
    // A new buffer: views handed out of the old one stay as they are.
    const grown = new Uint8Array(Math.max(needed, Math.min(2 * held, this.limits.maxHeadBytes + 64), 1024));
    grown.set(this.buffer.subarray(this.position, this.end), 0);
    grown.set(chunk, held);
    this.buffer = grown;
    this.position = 0;
    this.end = needed;
    this.owned = true;
  }

  private fail(kind: ParseErrorKind): false {
    this.state = FAILED;
    this.buffer = EMPTY;
    this.position = this.end = 0;
    this.sink.onError(kind);
    return false;
  }

  private failScan(kind: ParseErrorKind): -1 {
    this.fail(kind);
    return -1;
  }

  private run(): void {
    this.running = true;
    try {
      this.loop();
    } finally {
      this.running = false;
    }
  }

  private loop(): void {
    for (;;) {
      if (this.paused) return;
      let progressed: boolean;
      switch (this.state) {
        case HEAD:
          progressed = this.head();
          break;
        case BODY:
          progressed = this.body();
          break;
        case CHUNK_SIZE:
          progressed = this.chunkSize();
          break;
        case CHUNK_DATA:
          progressed = this.chunkData();
          break;
        case CHUNK_DATA_END:
          progressed = this.chunkDataEnd();
          break;
        case TRAILERS:
          progressed = this.trailers();
          break;
        default:
          return;
      }
      if (!progressed) return;
    }
  }

  /**
   * Finds the end of a block of CRLF-terminated lines (a head or a trailer section) from `position`,
   * resuming the search where the last call stopped. Returns the offset just past the empty line, 0 when
   * more bytes are needed, -1 after an error was reported.
   */
  private scanBlock(isHead: boolean): number {
    const buffer = this.buffer;
    const end = this.end;
    const start = this.position;
    let from = start + this.scanned;
    for (;;) {
      const lf = from < end ? buffer.indexOf(LF, from) : -1;
      if (lf < 0 || lf >= end) {
        this.scanned = end - start;
        if (isHead && this.lines === 0 && end - start > this.limits.maxRequestLineBytes + 1) return this.failScan('uri_too_long');
        if (end - start > this.limits.maxHeadBytes + 2) return this.failScan('head_too_large');
        return 0;
      }
      if (lf === start || buffer[lf - 1] !== CR) return this.failScan('bare_lf');
      const lineStart = start + this.lineStart;
      if (lf - 1 === lineStart && (this.lines > 0 || !isHead)) {
        if (lf + 1 - start > this.limits.maxHeadBytes + 2) return this.failScan('head_too_large');
        return lf + 1;
      }
      if (isHead && this.lines === 0 && lf - 1 - start > this.limits.maxRequestLineBytes) return this.failScan('uri_too_long');
      this.lines++;
      if (this.lines > this.limits.maxHeaders + (isHead ? 1 : 0)) return this.failScan('too_many_headers');
      this.lineStart = lf + 1 - start;
      from = lf + 1;
    }
  }

  private head(): boolean {
    if (this.scanned === 0) {
      // RFC 9112 §2.2: empty lines before a request line are ignored.
      const buffer = this.buffer;
      while (this.position < this.end && buffer[this.position] === CR) {
        if (this.position + 1 >= this.end) return false;
        if (buffer[this.position + 1] !== LF) break;
        this.position += 2;
      }
      if (this.position < this.end && buffer[this.position] === LF) return this.fail('bare_lf');
      if (this.position === this.end) return false;
    }
    const headEnd = this.scanBlock(true);
    if (headEnd <= 0) return false;
    const start = this.position;
    this.position = headEnd;
    this.scanned = this.lineStart = this.lines = 0;
    // The text without the CRLF of the last line and the empty line. The native UTF-8 decoder reads it when
    // it is ASCII (told by the lengths: a byte above 0x7F decodes to fewer characters, or to U+FFFD, which
    // encodes to three bytes), else one character per byte (field values are octets).
    const view = this.buffer.subarray(start, headEnd - 4);
    let text = utf8Decode(view);
    const cache = this.cache;
    let head = cache.head;
    if (text !== cache.text || head === undefined) {
      if (text.length !== view.length || utf8Encode(text).length !== view.length) text = latin1(this.buffer, start, headEnd - 4);
      head = {
        method: '',
        target: '',
        minorVersion: 1,
        headers: [],
        host: undefined,
        contentLength: -1,
        chunked: false,
        keepAlive: true,
        expectContinue: false,
      };
      const problem = parseRequestHead(text, this.limits.maxHeaders, head);
      if (problem) return this.fail(problem);
      cache.text = text;
      cache.head = head;
    }
    if (head.contentLength > this.limits.maxBodyBytes) return this.fail('body_too_large');
    this.bodyBytes = 0;
    if (head.chunked) this.state = CHUNK_SIZE;
    else if (head.contentLength > 0) {
      this.state = BODY;
      this.remaining = head.contentLength;
    }
    this.sink.onHead(head);
    if (this.state === HEAD) this.complete();
    return true;
  }

  private complete(): void {
    this.state = HEAD;
    if (this.position === this.end && this.owned) {
      // Nothing left: drop the accumulation buffer (the next chunk is used as it comes).
      this.buffer = EMPTY;
      this.position = this.end = 0;
      this.owned = false;
    }
    this.sink.onMessageComplete();
  }

  private deliver(): boolean {
    const available = this.end - this.position;
    if (available === 0) return false;
    const n = Math.min(available, this.remaining);
    const data = this.buffer.subarray(this.position, this.position + n);
    this.position += n;
    this.remaining -= n;
    this.sink.onBody(data);
    return true;
  }

  private body(): boolean {
    if (!this.deliver()) return false;
    if (this.remaining === 0) this.complete();
    return true;
  }

  private chunkData(): boolean {
    if (!this.deliver()) return false;
    if (this.remaining === 0) this.state = CHUNK_DATA_END;
    return true;
  }

  private chunkDataEnd(): boolean {
    const available = this.end - this.position;
    if (available === 0) return false;
    if (this.buffer[this.position] !== CR) return this.fail('invalid_chunk');
    if (available === 1) return false;
    if (this.buffer[this.position + 1] !== LF) return this.fail('invalid_chunk');
    this.position += 2;
    this.state = CHUNK_SIZE;
    return true;
  }

  private chunkSize(): boolean {
    const buffer = this.buffer;
    const start = this.position;
    const lf = buffer.indexOf(LF, start + this.scanned);
    if (lf < 0 || lf >= this.end) {
      this.scanned = this.end - start;
      if (this.end - start > MAX_CHUNK_LINE) return this.fail('invalid_chunk');
      return false;
    }
    if (lf === start || buffer[lf - 1] !== CR) return this.fail(lf === start ? 'invalid_chunk' : 'bare_lf');
    const lineEnd = lf - 1;
    if (lineEnd - start > MAX_CHUNK_LINE) return this.fail('invalid_chunk');
    // The size in hex, read from the bytes; anything after it (extensions) is checked by CHUNK_LINE.
    let size = 0;
    let digits = 0;
    let i = start;
    for (; i < lineEnd; i++) {
      const c = buffer[i]!;
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (digit < 0) break;
      // Leading zeros do not count towards overflow.
      if (size > 0 || digit > 0) digits++;
      size = size * 16 + digit;
    }
    if (i === start || digits > 13) return this.fail('invalid_chunk');
    if (i < lineEnd && !CHUNK_LINE.test(latin1(buffer, start, lineEnd))) return this.fail('invalid_chunk');
    this.position = lf + 1;
    this.scanned = 0;
    if (size === 0) {
      this.state = TRAILERS;
      this.lineStart = this.lines = 0;
      return true;
    }
    this.bodyBytes += size;
    if (this.bodyBytes > this.limits.maxBodyBytes) return this.fail('body_too_large');
    this.remaining = size;
    this.state = CHUNK_DATA;
    return true;
  }

  private trailers(): boolean {
    const blockEnd = this.scanBlock(false);
    if (blockEnd <= 0) return false;
    if (blockEnd - this.position > 2) {
      // Trailer fields are checked like header fields, then dropped (a fetch Request has no trailers).
      const text = latin1(this.buffer, this.position, blockEnd - 4);
      let at = 0;
      while (at < text.length) {
        FIELD_LINE.lastIndex = at;
        if (!FIELD_LINE.exec(text)) return this.fail('invalid_header');
        at = FIELD_LINE.lastIndex;
      }
    }
    this.position = blockEnd;
    this.scanned = this.lineStart = this.lines = 0;
    this.complete();
    return true;
  }
}
