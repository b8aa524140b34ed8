import type { IncomingBody } from '../web/body.js';
import { concatBytes } from '../web/text.js';

/** What an incoming body asks of its connection. */
export interface BodyFlow {
  /** The handler started reading: the time to send `100 Continue` if the client expects it. */
  started(): void;
  /** The queue is below its mark again (or the rest is discarded): reading may go on. */
  drained(): void;
}

/** Bytes queued for a reader that does not take them before the connection stops reading. */
export const BODY_HIGH_WATER = 64 * 1024;

interface Waiter {
  resolve(chunk: Uint8Array | null): void;
  reject(error: unknown): void;
}

/**
 * A request body as it arrives: the parser pushes chunks, the handler reads them (`request.body`,
 * `request.text()`, ...). When more than BODY_HIGH_WATER bytes wait for a reader, `push` says so and the
 * connection stops reading the socket (the TCP window closes) until the reader catches up.
 */
export class ServerIncomingBody implements IncomingBody {
  private chunks: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private error: unknown = undefined;
  private failed = false;
  private waiter: Waiter | undefined;
  private collector: { resolve(bytes: Uint8Array): void; reject(error: unknown): void } | undefined;
  private hasStarted = false;
  /** The handler does not want the rest: it is dropped as it comes. */
  cancelled = false;
  /** Bytes received, read or not. */
  received = 0;

  constructor(private readonly flow: BodyFlow) {}

  get complete(): boolean {
    return this.ended;
  }

  get started(): boolean {
    return this.hasStarted;
  }

  /** Whether a reader is waiting for bytes (the body timeout runs only then). */
  get waiting(): boolean {
    return this.waiter !== undefined || this.collector !== undefined;
  }

  /** Queues a chunk; false when the queue is past its mark and the connection should stop reading. */
  push(chunk: Uint8Array): boolean {
    this.received += chunk.length;
    if (this.cancelled || this.failed) return true;
    const waiter = this.waiter;
    if (waiter && this.queued === 0) {
      this.waiter = undefined;
      waiter.resolve(chunk);
      return true;
    }
    this.chunks.push(chunk);
    this.queued += chunk.length;
    return this.collector !== undefined || this.queued < BODY_HIGH_WATER;
  }

  end(): void {
    if (this.ended || this.failed) return;
    this.ended = true;
    const waiter = this.waiter;
    if (waiter && this.queued === 0) {
      this.waiter = undefined;
      waiter.resolve(null);
    }
    const collector = this.collector;
    if (collector) {
      this.collector = undefined;
      collector.resolve(this.takeAll());
    }
  }

  /** The body cannot be completed (bad chunk, too large, the client went away): readers get `error`. */
  fail(error: unknown): void {
    if (this.ended || this.failed) return;
    this.failed = true;
    this.error = error;
    this.chunks = [];
    this.queued = 0;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
    const collector = this.collector;
    this.collector = undefined;
    collector?.reject(error);
  }

  private start(): void {
    if (this.hasStarted) return;
    this.hasStarted = true;
    this.flow.started();
  }

  private takeAll(): Uint8Array {
    const bytes = this.chunks.length === 0 ? new Uint8Array(0) : concatBytes(this.chunks, this.queued);
    this.chunks = [];
    this.queued = 0;
    return bytes;
  }

  read(): Promise<Uint8Array | null> {
    this.start();
    if (this.failed) return Promise.reject(this.error);
    if (this.chunks.length > 0) {
      const chunk = this.chunks.shift()!;
      const wasFull = this.queued >= BODY_HIGH_WATER;
      this.queued -= chunk.length;
      if (wasFull && this.queued < BODY_HIGH_WATER) this.flow.drained();
      return Promise.resolve(chunk);
    }
    if (this.ended) return Promise.resolve(null);
    if (this.waiter) return Promise.reject(new TypeError('the request body is being read already'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  readAll(): Promise<Uint8Array> {
    this.start();
    if (this.failed) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(this.takeAll());
    const wasFull = this.queued >= BODY_HIGH_WATER;
    const promise = new Promise<Uint8Array>((resolve, reject) => {
      this.collector = { resolve, reject };
    });
    // Collecting takes everything as it comes (maxBodyBytes bounds it), so reading may go on.
    if (wasFull) this.flow.drained();
    return promise;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const wasFull = this.queued >= BODY_HIGH_WATER;
    this.chunks = [];
    this.queued = 0;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve(null);
    if (wasFull) this.flow.drained();
  }
}
