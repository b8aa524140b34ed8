import { type StatHandle, type Statman, statman } from '@uos/statman';
import { HttpError } from '../errors.js';
import type { HeadCache, ParserLimits } from '../parser/request-parser.js';
import type { Request } from '../web/request.js';
import { type ExecutionContext, type FetchHandler, HttpConnection } from './http-connection.js';
import { httpDate } from './http-date.js';
import { type HttpLimits, type ResolvedLimits, resolveLimits } from './limits.js';
import { plainResponseBytes } from './response-head.js';
import type { ListenOptions, TcpSocket } from '@uos/net';
import type { HttpSocket } from './socket.js';
import { type HttpStatName, type HttpStats, freeHttpStats, httpStats, readStats } from './stats.js';

/** Time for the server's timeouts: @uos/net's NetClock fits (an Inet's `clock`). */
export interface ServerClock {
  now(): number;
  setTimer(ms: number, callback: () => void): { cancel(): void };
}

/** What `serve` needs of a network stack: an @uos/net Inet, or anything with its `tcp.listen`. */
export interface InetLike {
  readonly name?: string;
  readonly clock?: ServerClock;
  readonly tcp: {
    listen(
      port: number,
      onConnection: (socket: TcpSocket) => void,
      options?: ListenOptions,
    ): { ok: true; listener: { close(): void } } | { ok: false; error: string };
  };
}

export interface ServeOptions extends HttpLimits {
  /** The network stack to listen on. */
  inet: InetLike;
  /** The TCP port (default 80). */
  port?: number;
  /** Answers each request: `fetch(request, env, ctx)`, a Response or a promise of one. */
  fetch: FetchHandler;
  /** Told of each handler failure (a throw, a rejection, not a Response); default: console.error. The client gets 500. */
  onError?: (error: unknown, request: Request) => void;
  /** Timers (default: the inet's clock). */
  clock?: ServerClock;
  /** Where the statistics go (default: the global statman). */
  statman?: Statman;
}

/** A running server, as `serve` returns it. */
export interface HttpServer {
  readonly port: number;
  /** Open connections. */
  readonly connections: number;
  /** Where the statistics are in statman: `<ifname>.http.<port>`. */
  readonly statsPrefix: string;
  /** The counters (requests, responses by class, parse errors by kind, timeouts, refusals, ...). */
  stats(): Record<HttpStatName, number>;
  /**
   * Stops listening, closes idle connections at once and the others after their current response; resolves
   * when all are closed (connections still open after `graceMs`, default 10 s, are reset).
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

const host = globalThis as unknown as { console: { error(...data: unknown[]): void } };

/** How often the timeouts are checked: a timeout fires up to this late. */
const SWEEP_MS = 500;

const defaultClock: ServerClock = {
  now: () => (globalThis as unknown as { performance: { now(): number } }).performance.now(),
  setTimer(ms, callback) {
    const host = globalThis as unknown as { setTimeout(f: () => void, ms: number): unknown; clearTimeout(h: unknown): void };
    const handle = host.setTimeout(callback, ms);
    return { cancel: () => host.clearTimeout(handle) };
  },
};

/**
 * The server behind `serve`: accepts connections up to `maxConnections` (one more is answered 503 and
 * closed), keeps their statistics, and checks their timeouts from one timer that runs only while
 * connections are open (an idle server wakes nobody).
 */
export class HttpServerCore {
  readonly limits: ResolvedLimits;
  readonly parserLimits: ParserLimits;
  readonly headCache: HeadCache = { text: '', head: undefined };
  readonly stats: HttpStats;
  readonly ctx: ExecutionContext;
  private readonly connections = new Set<HttpConnection>();
  private readonly active: StatHandle;
  private sweepTimer: { cancel(): void } | undefined;
  private closing = false;
  private closedWaiters: (() => void)[] = [];
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    readonly handler: FetchHandler,
    options: HttpLimits & { onError?: (error: unknown, request: Request) => void },
    private readonly clock: ServerClock,
    readonly statsPrefix: string,
    private readonly registry: Statman = statman,
  ) {
    this.limits = resolveLimits(options);
    const { maxHeadBytes, maxRequestLineBytes, maxHeaders, maxBodyBytes } = this.limits;
    this.parserLimits = { maxHeadBytes, maxRequestLineBytes, maxHeaders, maxBodyBytes };
    this.stats = httpStats(statsPrefix, registry);
    this.active = this.stats.connections_active;
    const report =
      options.onError ?? ((error: unknown, request: Request) => host.console.error(`http: ${request.method} ${request.url}:`, error));
    this.reportError = report;
    const pending = this.pending;
    this.ctx = {
      waitUntil(promise) {
        const tracked = Promise.resolve(promise).then(
          () => {},
          (error: unknown) => host.console.error('http: a waitUntil promise rejected:', error),
        );
        pending.add(tracked);
        tracked.then(() => pending.delete(tracked));
      },
      passThroughOnException() {},
      props: {},
    };
  }

  private readonly reportError: (error: unknown, request: Request) => void;

  now(): number {
    return this.clock.now();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** A new TCP connection from the listener. */
  accept(socket: HttpSocket): void {
    this.stats.connections_opened.increment();
    if (this.closing || this.connections.size >= this.limits.maxConnections) {
      this.stats.connections_refused.increment();
      this.stats.responses_5xx.increment();
      socket.onData(() => {});
      socket.write(plainResponseBytes(503, httpDate(), 'Retry-After: 1\r\n'));
      socket.close();
      return;
    }
    this.connections.add(new HttpConnection(this, socket));
    this.active.value = this.connections.size;
    this.armSweep();
  }

  handlerFailed(error: unknown, request: Request): void {
    try {
      this.reportError(error, request);
    } catch {
      // A failing reporter must not take the connection with it.
    }
  }

  released(connection: HttpConnection): void {
    if (!this.connections.delete(connection)) return;
    this.active.value = this.connections.size;
    if (this.connections.size === 0 && this.closing) for (const waiter of this.closedWaiters.splice(0)) waiter();
  }

  /**
   * The sweep runs every SWEEP_MS while connections are open and stops by itself (at its next run) when
   * none is: a connection that comes and goes costs no timer of its own.
   */
  private armSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = this.clock.setTimer(SWEEP_MS, () => {
      this.sweepTimer = undefined;
      if (this.connections.size === 0) return;
      this.sweep();
      this.armSweep();
    });
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const connection of [...this.connections]) {
      if (connection.deadline !== 0 && now >= connection.deadline) connection.timedOut();
    }
  }

  /** Refuses new connections and ends the open ones (idle at once, busy after their response). */
  shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    const done = new Promise<void>((resolve) => {
      if (this.connections.size === 0) resolve();
      else this.closedWaiters.push(resolve);
    });
    for (const connection of [...this.connections]) connection.closeWhenDone();
    const force = this.clock.setTimer(graceMs, () => {
      for (const connection of [...this.connections]) connection.abort();
    });
    return done.then(async () => {
      force.cancel();
      this.sweepTimer?.cancel();
      this.sweepTimer = undefined;
      await Promise.all([...this.pending]);
      freeHttpStats(this.statsPrefix, this.stats, this.registry);
    });
  }

  snapshot(): Record<HttpStatName, number> {
    return readStats(this.stats);
  }
}

/**
 * Serves HTTP/1.1 on `inet`'s TCP `port` with a fetch handler: `fetch(request, env, ctx)` gets a WHATWG
 * Request and returns a Response (or a promise of one); `env.remoteAddr` says who asks. Returns the
 * running server. A port in use or a bad limit throws an HttpError.
 */
export function serve(options: ServeOptions): HttpServer {
  if (!options || typeof options.fetch !== 'function') throw new HttpError('invalid-option', 'serve() needs a fetch(request) handler');
  if (!options.inet?.tcp) throw new HttpError('invalid-option', 'serve() needs an inet (a @uos/net Inet) to listen on');
  const port = options.port ?? 80;
  const clock = options.clock ?? options.inet.clock ?? defaultClock;
  const ifname = options.inet.name ?? 'net';
  const prefix = `${ifname}.http.${port}`;
  const core = new HttpServerCore(options.fetch, options, clock, prefix, options.statman);
  const listening = options.inet.tcp.listen(port, (socket) => core.accept(socket), {
    sendBufferBytes: core.limits.sendBufferBytes,
    timeWaitMs: core.limits.timeWaitMs,
    noDelay: true,
  });
  if (!listening.ok) {
    freeHttpStats(prefix, core.stats, options.statman);
    throw new HttpError('listen-failed', `cannot listen on TCP port ${port}: ${listening.error}`);
  }
  let closed: Promise<void> | undefined;
  return {
    port,
    statsPrefix: prefix,
    get connections() {
      return core.connectionCount;
    },
    stats: () => core.snapshot(),
    close(closeOptions = {}) {
      if (!closed) {
        listening.listener.close();
        closed = core.shutdown(closeOptions.graceMs ?? 10_000);
      }
      return closed;
    },
  };
}
