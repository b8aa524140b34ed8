/**
 * Test support: an in-memory socket with @uos/net's semantics (writes take what fits in a bounded send
 * buffer, `writeAll` waits for room, pause holds incoming data, end/close/abort), driven by the test as
 * the peer: `send` bytes in, `read` what the server wrote (which frees send-buffer room), `end`, `reset`.
 */
import { type CloseReason, type Ipv4Address, ipv4Address } from '@uos/net';
import type { HttpSocket, SocketWriteResult } from '../server/socket.js';

export class FakeSocket implements HttpSocket {
  readonly remoteAddress: Ipv4Address = ipv4Address('10.0.2.2');
  readonly remotePort = 40000;
  readonly localAddress: Ipv4Address = ipv4Address('10.0.2.15');
  /** What the server wrote and the peer has not read yet. */
  private unread: Uint8Array[] = [];
  private unreadBytes = 0;
  /** Everything the peer read so far, as text. */
  received = '';
  /** The server half-closed (FIN), closed, or reset. */
  ended = false;
  closed = false;
  aborted = false;
  paused = false;
  private held: Uint8Array[] = [];
  private peerEnded = false;
  private dataListener: ((data: Uint8Array) => void) | undefined;
  private readonly endListeners: (() => void)[] = [];
  private readonly closeListeners: ((reason: CloseReason) => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private closeNotified = false;

  /** `sendCapacity`: the send buffer; with `autoRead` the peer reads everything at once (unbounded). */
  constructor(
    private readonly sendCapacity = 64 * 1024,
    private readonly autoRead = true,
  ) {}

  // -------------------------------------------------------------------------------- the server's side

  write(data: Uint8Array): SocketWriteResult {
    if (this.aborted || this.closeNotified) return { ok: false, error: 'closed' };
    if (this.ended) return { ok: false, error: 'ending' };
    const room = this.autoRead ? data.length : Math.max(0, this.sendCapacity - this.unreadBytes);
    const accepted = Math.min(room, data.length);
    if (accepted > 0) {
      this.unread.push(data.slice(0, accepted));
      this.unreadBytes += accepted;
    }
    if (this.autoRead) this.read();
    return { ok: true, accepted };
  }

  async writeAll(data: Uint8Array): Promise<SocketWriteResult> {
    let offset = 0;
    while (offset < data.length) {
      const result = this.write(data.subarray(offset));
      if (!result.ok) return result;
      offset += result.accepted;
      if (offset < data.length) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
      if (this.aborted || this.closeNotified) return { ok: false, error: 'closed' };
    }
    return { ok: true, accepted: data.length };
  }

  end(): void {
    this.ended = true;
    this.maybeClosed();
  }

  close(): void {
    this.closed = true;
    this.end();
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.notifyClose('aborted');
  }

  onData(listener: (data: Uint8Array) => void): () => void {
    this.dataListener = listener;
    return () => {
      if (this.dataListener === listener) this.dataListener = undefined;
    };
  }

  onEnd(listener: () => void): () => void {
    this.endListeners.push(listener);
    return () => this.endListeners.splice(this.endListeners.indexOf(listener) >>> 0, 1);
  }

  onClose(listener: (reason: CloseReason) => void): () => void {
    this.closeListeners.push(listener);
    return () => this.closeListeners.splice(this.closeListeners.indexOf(listener) >>> 0, 1);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const chunk of held) this.dataListener?.(chunk);
  }

  // -------------------------------------------------------------------------------- the peer's side

  /** The peer sends bytes (a string is taken one byte per character). */
  send(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff) : data;
    if (this.paused) this.held.push(bytes);
    else this.dataListener?.(bytes);
  }

  /** Bytes the server wrote that the peer has not read. */
  get pendingBytes(): number {
    return this.unreadBytes;
  }

  /** The peer reads up to `max` bytes (all by default); returns what it read, as text. */
  read(max = Number.POSITIVE_INFINITY): string {
    let text = '';
    let budget = max;
    while (this.unread.length && budget > 0) {
      const chunk = this.unread[0]!;
      const n = Math.min(chunk.length, budget);
      text += String.fromCharCode(...chunk.subarray(0, n));
      budget -= n;
      this.unreadBytes -= n;
      if (n === chunk.length) this.unread.shift();
      else this.unread[0] = chunk.subarray(n);
    }
    this.received += text;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
    this.maybeClosed();
    return text;
  }

  /** The peer half-closes (FIN). */
  finish(): void {
    this.peerEnded = true;
    for (const listener of this.endListeners) listener();
    this.maybeClosed();
  }

  /** The peer resets the connection. */
  reset(): void {
    this.notifyClose('reset');
  }

  private maybeClosed(): void {
    // Closed for good once both sides ended and all was read (or the server closed and the peer read it).
    if ((this.closed || (this.ended && this.peerEnded)) && this.unreadBytes === 0) this.notifyClose('normal');
  }

  private notifyClose(reason: CloseReason): void {
    if (this.closeNotified) return;
    this.closeNotified = true;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
    for (const listener of this.closeListeners) listener(reason);
  }
}
