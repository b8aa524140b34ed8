import type { RequestHead } from '../parser/head.js';
import { type HeadCache, type ParserLimits, type ParserSink, RequestParser } from '../parser/request-parser.js';
import { PARSE_ERROR_STATUS, type ParseErrorKind } from '../parser/syntax.js';
import { Request } from '../web/request.js';
import type { Response } from '../web/response.js';
import { httpDate } from './http-date.js';
import { type BodyFlow, ServerIncomingBody } from './incoming-body.js';
import type { ResolvedLimits } from './limits.js';
import { plainResponseBytes } from './response-head.js';
import { type ResponseSink, writeResponse } from './response-writer.js';
import { IPV4_ANY, type IpAddress } from '@uos/net';
import { type HttpSocket, formatAddress } from './socket.js';
import type { HttpStats } from './stats.js';

/** What a fetch handler gets besides the request: who is asking (Hono's getConnInfo reads `remoteAddr`). */
export interface HttpEnv {
  readonly remoteAddr: { hostname: string; port: number; transport: 'tcp' };
  [key: string]: unknown;
}

/** One per connection; the address text is made only if a handler asks for it. */
class ConnectionEnv implements HttpEnv {
  [key: string]: unknown;
  private readonly peer: IpAddress;
  private readonly port: number;
  private address: HttpEnv['remoteAddr'] | undefined;

  constructor(socket: { remoteAddress: IpAddress; remotePort: number }) {
    // The address itself, not the socket: the env outlives nothing, and holds no cycle.
    this.peer = socket.remoteAddress;
    this.port = socket.remotePort;
  }

  get remoteAddr(): HttpEnv['remoteAddr'] {
    this.address ??= { hostname: formatAddress(this.peer), port: this.port, transport: 'tcp' };
    return this.address;
  }
}

/** The handler's execution context (the shape Cloudflare Workers and Hono use). */
export interface ExecutionContext {
  /** Keeps work going after the response; a rejection is reported, never unhandled. */
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
  /** Cloudflare's per-invocation properties (Hono's ExecutionContext has it); empty here. */
  props: Record<string, unknown>;
}

/**
 * What a handler returns, as the type system sees it: any Response (the web global in an image is
 * @uos/http's own class; a value of another kind is answered 500 at run time, with a message).
 */
export interface ResponseLike {
  readonly status: number;
  readonly statusText: string;
}

export type FetchHandler = (request: Request, env: HttpEnv, ctx: ExecutionContext) => ResponseLike | Promise<ResponseLike>;

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly limits: ResolvedLimits;
  readonly parserLimits: ParserLimits;
  /** The last head parsed on any of the server's connections. */
  readonly headCache: HeadCache;
  readonly stats: HttpStats;
  readonly handler: FetchHandler;
  readonly ctx: ExecutionContext;
  now(): number;
  /** A handler threw, rejected or returned something else than a Response. */
  handlerFailed(error: unknown, request: Request): void;
  released(connection: HttpConnection): void;
}

const CONTINUE = new Uint8Array([...'HTTP/1.1 100 Continue\r\n\r\n'].map((c) => c.charCodeAt(0)));
/** A request body this much larger than what was read is not worth reading to keep the connection. */
const DISCARD_LIMIT = 64 * 1024;

/** One request in flight. */
class Exchange {
  requestComplete = false;
  responseStarted = false;
  /** The response is all in the send buffer. */
  responseDone = false;
  /** The handler's response is no longer wanted (the server answered an error itself, or the client left). */
  abandoned = false;
  continueSent = false;
  /** Stops the response's stream (set while one is being written). */
  cancel: (() => void) | undefined;

  constructor(
    readonly head: RequestHead,
    readonly request: Request,
    readonly body: ServerIncomingBody | null,
  ) {}
}

/** No deadline, or which one runs. */
const NONE = 0;
const HEADERS = 1;
const KEEP_ALIVE = 2;
const BODY = 3;

/**
 * One HTTP/1.1 connection: parses requests, hands each to the fetch handler, writes its response, one at a
 * time in order (pipelined requests wait in the parser, then in the TCP window). Keep-alive by default in
 * 1.1, opt-in in 1.0. A request that cannot be parsed is answered with its status and the connection
 * closed; so is one whose head or body takes too long. The connection never throws into the stack.
 */
export class HttpConnection implements ParserSink, ResponseSink, BodyFlow {
  private readonly parser: RequestParser;
  private readonly env: HttpEnv;
  private exchange: Exchange | undefined;
  /** After the current response the connection ends (Connection: close, HTTP/1.0, an error, the peer ended). */
  private closeAfterResponse = false;
  private peerEnded = false;
  private closed = false;
  private detached = false;
  private socketPaused = false;
  private bodyFull = false;
  /** Timeouts: which deadline runs and when it expires (the server's sweep checks). */
  deadlineKind = HEADERS;
  deadline: number;

  constructor(
    private readonly host: ConnectionHost,
    private socket: HttpSocket,
  ) {
    this.parser = new RequestParser(this, host.parserLimits, host.headCache);
    this.env = new ConnectionEnv(socket);
    this.deadline = host.now() + host.limits.headersTimeoutMs;
    socket.onData((data) => this.onData(data));
    socket.onEnd(() => this.onPeerEnd());
    socket.onClose(() => this.onSocketClosed());
  }

  /** Whether the connection is between requests with nothing pending (a graceful close may end it now). */
  get idle(): boolean {
    return this.exchange === undefined && this.parser.idle;
  }

  /**
   * A graceful close of the server: an idle connection ends now; a busy one finishes the request under
   * way, says `Connection: close` if its response has not started, and ends after it.
   */
  closeWhenDone(): void {
    if (this.closed) return;
    this.closeAfterResponse = true;
    if (this.idle) this.close();
  }

  // ------------------------------------------------------------------------------------------ reading

  private onData(data: Uint8Array): void {
    if (this.closed) return;
    this.host.stats.bytes_rx.increment(data.length);
    if (this.deadlineKind === KEEP_ALIVE) this.setDeadline(HEADERS, this.host.limits.headersTimeoutMs);
    this.parser.push(data);
    // While a response is written (pipelining) or a reader lags, the parser holds what comes; past the
    // head limit the socket stops reading and the peer's window closes.
    if (this.parser.isPaused && !this.socketPaused && this.parser.bufferedBytes >= this.host.limits.maxHeadBytes) {
      this.socketPaused = true;
      this.socket.pause();
    }
  }

  private setDeadline(kind: number, ms: number): void {
    this.deadlineKind = kind;
    this.deadline = kind === NONE ? 0 : this.host.now() + ms;
  }

  onHead(head: RequestHead): void {
    if (this.closed) return;
    const { stats, limits } = this.host;
    stats.requests.increment();
    let host = head.host;
    if (host === undefined) {
      if (head.minorVersion === 1) {
        this.parseFailed('missing_host');
        return;
      }
      // HTTP/1.0 without Host: the address the client reached.
      host = formatAddress(this.socket.localAddress);
    }
    const url = head.target.charCodeAt(0) === 47 ? `http://${host}${head.target}` : head.target;
    const hasBody = head.chunked || head.contentLength > 0;
    const body = hasBody ? new ServerIncomingBody(this) : null;
    const request = Request._incoming(head.method, url, head.headers, body);
    const exchange = new Exchange(head, request, body);
    this.exchange = exchange;
    if (!head.keepAlive) this.closeAfterResponse = true;
    this.setDeadline(hasBody ? BODY : NONE, limits.bodyTimeoutMs);
    let result: ResponseLike | Promise<ResponseLike>;
    try {
      result = this.host.handler(request, this.env, this.host.ctx);
    } catch (error) {
      this.handlerFailed(exchange, error);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as Promise<ResponseLike>).then === 'function') {
      (result as Promise<ResponseLike>).then(
        (response) => this.respond(exchange, response as Response),
        (error: unknown) => this.handlerFailed(exchange, error),
      );
    } else {
      this.respond(exchange, result as Response);
    }
  }

  onBody(data: Uint8Array): void {
    const exchange = this.exchange;
    if (!exchange?.body) return;
    if (this.deadlineKind === BODY) this.setDeadline(BODY, this.host.limits.bodyTimeoutMs);
    if (!exchange.body.push(data)) {
      this.bodyFull = true;
      this.parser.pause();
    }
  }

  onMessageComplete(): void {
    const exchange = this.exchange;
    if (!exchange) return;
    exchange.requestComplete = true;
    exchange.body?.end();
    if (this.deadlineKind === BODY) this.setDeadline(NONE, 0);
    if (exchange.responseDone) {
      this.finishExchange(exchange);
      return;
    }
    // One request at a time: the next one waits in the parser until this response is written.
    this.parser.pause();
  }

  onError(kind: ParseErrorKind): void {
    this.parseFailed(kind);
  }

  /** ServerIncomingBody's flow: the handler started reading (send 100 Continue if expected). */
  started(): void {
    const exchange = this.exchange;
    if (!exchange || exchange.continueSent || !exchange.head.expectContinue || exchange.responseStarted) return;
    if (exchange.body && exchange.body.received > 0) return;
    exchange.continueSent = true;
    this.send(CONTINUE);
  }

  /** ServerIncomingBody's flow: the reader caught up. */
  drained(): void {
    if (!this.bodyFull) return;
    this.bodyFull = false;
    this.resumeReading();
  }

  private resumeReading(): void {
    if (this.closed || this.bodyFull) return;
    if (this.socketPaused) {
      this.socketPaused = false;
      this.socket.resume();
    }
    this.parser.resume();
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    const exchange = this.exchange;
    if (!exchange) {
      // Between requests (or inside an unfinished head: nothing to answer).
      this.close();
      return;
    }
    this.closeAfterResponse = true;
    if (!exchange.requestComplete) {
      exchange.body?.fail(new TypeError('the client closed the connection before the request body was complete'));
      exchange.request._abort();
    }
  }

  private onSocketClosed(): void {
    this.detach();
  }

  // ------------------------------------------------------------------------------------------ answering

  /**
   * Writes to the socket (ResponseSink): true when the send buffer took it all, else a promise for when
   * it has (false if the connection went first); false when the connection is gone.
   */
  send(bytes: Uint8Array): boolean | Promise<boolean> {
    if (this.closed) return false;
    const result = this.socket.write(bytes);
    if (!result.ok) return false;
    const stats = this.host.stats;
    stats.bytes_tx.increment(result.accepted);
    if (result.accepted === bytes.length) return true;
    const rest = bytes.subarray(result.accepted);
    return this.socket.writeAll(rest).then((written) => {
      if (written.ok) stats.bytes_tx.increment(rest.length);
      return written.ok;
    });
  }

  private countStatus(status: number): void {
    const stats = this.host.stats;
    if (status < 200) stats.responses_1xx.increment();
    else if (status < 300) stats.responses_2xx.increment();
    else if (status < 400) stats.responses_3xx.increment();
    else if (status < 500) stats.responses_4xx.increment();
    else stats.responses_5xx.increment();
  }

  /** The server's own answer (an error status) and the end of the connection. */
  private refuse(status: number, extra = ''): void {
    const exchange = this.exchange;
    if (exchange) {
      exchange.abandoned = true;
      exchange.body?.fail(new TypeError(`the request was refused with ${status}`));
    }
    if (!exchange?.responseStarted) {
      this.countStatus(status);
      this.send(plainResponseBytes(status, httpDate(), extra));
    }
    this.closeAfterResponse = true;
    this.close();
  }

  private parseFailed(kind: ParseErrorKind): void {
    this.host.stats[`parse_errors_${kind}`].increment();
    if (this.exchange?.responseStarted) {
      // The response is on its way; the request can no longer be read: end after it.
      this.exchange.abandoned = true;
      this.exchange.body?.fail(new TypeError(`the request body is invalid (${kind})`));
      this.closeAfterResponse = true;
      return;
    }
    this.refuse(PARSE_ERROR_STATUS[kind]);
  }

  private handlerFailed(exchange: Exchange, error: unknown): void {
    if (exchange.abandoned || this.closed) return;
    this.host.stats.handler_errors.increment();
    this.host.handlerFailed(error, exchange.request);
    if (exchange.responseStarted) {
      this.abort();
      return;
    }
    this.refuse(500);
  }

  private respond(exchange: Exchange, response: Response): void {
    if (exchange.abandoned || this.closed) {
      if (response && typeof response === 'object' && response._source) response.body?.cancel().catch(() => {});
      return;
    }
    exchange.responseStarted = true;
    const outcome = writeResponse(this, response, {
      isHead: exchange.head.method === 'HEAD',
      minorVersion: exchange.head.minorVersion,
      close: this.closeAfterResponse || (exchange.head.expectContinue && !exchange.continueSent && !exchange.requestComplete),
      date: httpDate(),
    });
    if (outcome === 'invalid') {
      exchange.responseStarted = false;
      this.handlerFailed(exchange, new TypeError(`the fetch handler must return a Response, not ${describe(response)}`));
      return;
    }
    this.countStatus(outcome.status);
    if (outcome.close) this.closeAfterResponse = true;
    if (outcome.done === true) {
      this.responseWritten(exchange);
      return;
    }
    exchange.cancel = outcome.cancel;
    outcome.done.then(
      (ok) => {
        exchange.cancel = undefined;
        if (ok) this.responseWritten(exchange);
        else this.abort();
      },
      () => this.abort(),
    );
  }

  private responseWritten(exchange: Exchange): void {
    exchange.responseDone = true;
    if (this.closed) return;
    const body = exchange.body;
    if (!exchange.requestComplete && body) {
      // The handler answered without reading the whole body. Small leftovers are read and dropped to keep
      // the connection; a large one (or one the client holds back for 100 Continue) ends it.
      const remaining = exchange.head.contentLength >= 0 ? exchange.head.contentLength - body.received : Number.POSITIVE_INFINITY;
      if (this.closeAfterResponse || remaining > DISCARD_LIMIT || (exchange.head.expectContinue && !exchange.continueSent)) {
        this.exchange = undefined;
        this.close();
        return;
      }
      exchange.abandoned = true;
      body.cancel();
      this.resumeReading();
      return; // onMessageComplete finishes it
    }
    this.finishExchange(exchange);
  }

  private finishExchange(exchange: Exchange): void {
    if (this.exchange !== exchange) return;
    this.exchange = undefined;
    if (this.closeAfterResponse || this.peerEnded) {
      this.close();
      return;
    }
    this.setDeadline(HEADERS, this.host.limits.headersTimeoutMs);
    if (this.parser.idle) this.setDeadline(KEEP_ALIVE, this.host.limits.keepAliveTimeoutMs);
    this.resumeReading();
  }

  // ------------------------------------------------------------------------------------------ ending

  /** Called by the server's sweep when `deadline` has passed. */
  timedOut(): void {
    const stats = this.host.stats;
    switch (this.deadlineKind) {
      case KEEP_ALIVE:
        stats.timeouts_keep_alive.increment();
        this.close();
        break;
      case HEADERS:
        stats.timeouts_headers.increment();
        if (this.parser.inMessage && !this.exchange) this.refuse(408);
        else this.close();
        break;
      case BODY:
        if (!this.exchange?.body?.waiting) {
          this.setDeadline(BODY, this.host.limits.bodyTimeoutMs);
          break;
        }
        stats.timeouts_body.increment();
        this.refuse(408);
        break;
    }
  }

  /** Ends the connection gracefully (a FIN after what was written). */
  close(): void {
    if (this.closed) return;
    this.socket.close();
    this.detach();
  }

  /** Ends the connection at once (reset). */
  abort(): void {
    if (this.detached) return;
    this.socket.abort();
    this.detach();
  }

  /**
   * The connection's HTTP life is over (it was closed here, or TCP ended it): the exchange in flight is
   * abandoned, the server forgets the connection at once (TCP may still be sending the last bytes, or
   * waiting in TIME-WAIT: that is the TCP layer's), and the references to socket and parser are dropped,
   * so that no cycle keeps these objects alive until QuickJS's cycle collector comes by.
   */
  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.closed = true;
    this.setDeadline(NONE, 0);
    const exchange = this.exchange;
    this.exchange = undefined;
    if (exchange) {
      exchange.abandoned = true;
      exchange.body?.fail(new TypeError('the connection closed'));
      exchange.request._abort();
      exchange.cancel?.();
      if (exchange.responseStarted && !exchange.responseDone) this.host.stats.responses_aborted.increment();
    }
    this.parser.detach();
    this.socket = DETACHED_SOCKET;
    this.host.released(this);
  }
}

const nothing = (): void => {};

/** What a connection holds once detached: a socket that does nothing. */
const DETACHED_SOCKET: HttpSocket = {
  remoteAddress: IPV4_ANY,
  localAddress: IPV4_ANY,
  remotePort: 0,
  write: () => ({ ok: false, error: 'closed' }),
  writeAll: () => Promise.resolve({ ok: false, error: 'closed' }),
  end: nothing,
  close: nothing,
  abort: nothing,
  onData: () => nothing,
  onEnd: () => nothing,
  onClose: () => nothing,
  pause: nothing,
  resume: nothing,
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name ? `a ${name}` : 'an object';
}
