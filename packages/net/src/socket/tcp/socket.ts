import type { IpAddress } from '../../wire/address.js';
import { BUFFER_OVERHEAD_BYTES } from '../../memory.js';
import type { CloseReason, ConnectResult, TcpSocket, TcpState, WriteResult } from './tcp-socket.js';

/** What the application's side needs of the connection's engine. */
export interface SocketEngine {
  /** The state as the application sees it. */
  readonly currentState: TcpState;
  readonly bufferedBytes: number;
  readonly writableBytes: number;
  readonly smoothedRttMs: number | undefined;
  /** Queues what fits and sends what the windows allow. */
  write(data: Uint8Array): WriteResult;
  end(): void;
  abort(): void;
  opened(): Promise<ConnectResult>;
  /** Held bytes were taken: the receive window may have opened enough to say so. */
  windowOpened(): void;
  /** What the held data is charged changed by `delta` (bytes and arrays, see `heldCharge`). */
  heldChanged(delta: number): void;
}

type DataListener = (data: Uint8Array) => void;

const NO_LISTENERS: readonly never[] = [];
/** A small chunk held after another small one is joined to it, up to this size: tiny segments cost their bytes. */
const SMALL_CHUNK_BYTES = 512;
const JOINED_CHUNK_BYTES = 2048;
/** Never pushed to: `deliver` gives the socket its own array first. */
const NOTHING_HELD: Uint8Array[] = [];

/**
 * The application's side of one connection, what `TcpSocket` promises: the data consumers and what is
 * held for them, pause and resume, the end, close and drain events. The engine (`TcpConnection`) calls
 * `deliver`, `peerEnded`, `closed` and `drain`; it reads `heldBytes` for the receive window.
 *
 * Listener lists are replaced, never changed in place, so a listener may add or remove listeners while
 * they are being called.
 */
export class ConnectionSocket implements TcpSocket {
  readonly localAddress: IpAddress;
  readonly localPort: number;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  /** In-order bytes no consumer has taken yet (no consumer, or paused); they hold the window shut. */
  heldBytes = 0;
  /** In-order bytes from the peer, delivered, held or discarded: the connection's "bytes in". */
  bytesDelivered = 0;
  /** A write took less than it was given: drain listeners wait for room. */
  wantsDrain = false;
  // Empty lists are one shared array (an idle connection holds no array of its own); lists of listeners
  // are replaced, never changed in place, and `held` is replaced by its own array before a push.
  private held: Uint8Array[] = NOTHING_HELD;
  private dataListeners: readonly DataListener[] = NO_LISTENERS;
  private endListeners: readonly (() => void)[] = NO_LISTENERS;
  private closeListeners: readonly ((reason: CloseReason) => void)[] = NO_LISTENERS;
  private drainListeners: readonly (() => void)[] = NO_LISTENERS;
  private paused = false;
  /** Async iterators whose reader has not taken the chunk they hold: delivery waits for them. */
  private readersBehind = 0;
  /** close() was called: what arrives while nobody reads is dropped instead of held. */
  private discarding = false;
  private finReceived = false;
  private endDelivered = false;
  private closedWith: CloseReason | undefined;
  private flushing = false;

  constructor(
    private readonly engine: SocketEngine,
    local: { address: IpAddress; port: number },
    remote: { address: IpAddress; port: number },
  ) {
    this.localAddress = local.address;
    this.localPort = local.port;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
  }

  get state(): TcpState {
    return this.engine.currentState;
  }

  get bufferedBytes(): number {
    return this.engine.bufferedBytes;
  }

  get writableBytes(): number {
    return this.engine.writableBytes;
  }

  get smoothedRttMs(): number | undefined {
    return this.engine.smoothedRttMs;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  // ---------------------------------------------------------------- writing

  opened(): Promise<ConnectResult> {
    return this.engine.opened();
  }

  write(data: Uint8Array): WriteResult {
    const result = this.engine.write(data);
    if (result.ok && result.accepted < data.length) this.wantsDrain = true;
    return result;
  }

  async writeAll(data: Uint8Array): Promise<WriteResult> {
    let offset = 0;
    while (offset < data.length) {
      const result = this.write(data.subarray(offset));
      if (!result.ok) return result;
      offset += result.accepted;
      if (offset < data.length) {
        const outcome = await new Promise<'drain' | 'closed'>((resolve) => {
          const offClose = this.onClose(() => resolve('closed'));
          this.onDrain(() => {
            offClose();
            resolve('drain');
          });
        });
        if (outcome === 'closed') return { ok: false, error: 'closed' };
      }
    }
    return { ok: true, accepted: data.length };
  }

  end(): void {
    this.engine.end();
  }

  close(): void {
    this.discarding = true;
    if (!this.dataListeners.length && this.held.length) {
      // Nobody reads and nobody will: what was held goes, and the window opens again.
      const charge = this.heldCharge;
      this.held = NOTHING_HELD;
      this.heldBytes = 0;
      this.engine.heldChanged(-charge);
      this.engine.windowOpened();
      this.deliverEndIfDue();
    }
    this.engine.end();
  }

  abort(): void {
    this.engine.abort();
  }

  // ---------------------------------------------------------------- listeners

  onData(listener: DataListener): () => void {
    this.dataListeners = [...this.dataListeners, listener];
    this.flush();
    return () => {
      this.dataListeners = this.dataListeners.filter((l) => l !== listener);
    };
  }

  onEnd(listener: () => void): () => void {
    if (this.endDelivered) {
      listener();
      return () => {};
    }
    this.endListeners = [...this.endListeners, listener];
    this.deliverEndIfDue();
    return () => {
      this.endListeners = this.endListeners.filter((l) => l !== listener);
    };
  }

  onClose(listener: (reason: CloseReason) => void): () => void {
    if (this.closedWith) {
      listener(this.closedWith);
      return () => {};
    }
    this.closeListeners = [...this.closeListeners, listener];
    return () => {
      this.closeListeners = this.closeListeners.filter((l) => l !== listener);
    };
  }

  onDrain(listener: () => void): () => void {
    this.drainListeners = [...this.drainListeners, listener];
    return () => {
      this.drainListeners = this.drainListeners.filter((l) => l !== listener);
    };
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flush();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const queue: Uint8Array[] = [];
    let finished = false;
    let behind = false;
    let wake: (() => void) | undefined;
    const setBehind = (value: boolean): void => {
      if (behind === value) return;
      behind = value;
      this.readersBehind += value ? 1 : -1;
      if (!value) this.flush();
    };
    const stop = (): void => {
      finished = true;
      wake?.();
    };
    const offData = this.onData((chunk) => {
      queue.push(chunk);
      setBehind(true);
      wake?.();
    });
    const offEnd = this.onEnd(stop);
    const offClose = this.onClose(stop);
    try {
      for (;;) {
        if (queue.length) {
          const chunk = queue.shift()!;
          // Taken: the next held chunk (if any) comes into the queue at once, and holds delivery again.
          if (!queue.length) setBehind(false);
          yield chunk;
          continue;
        }
        if (finished) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      offData();
      offEnd();
      offClose();
      setBehind(false);
    }
  }

  // ---------------------------------------------------------------- from the engine

  /** In-order bytes from the peer (a copy the socket may hand out). */
  deliver(data: Uint8Array): void {
    this.bytesDelivered += data.length;
    const listeners = this.dataListeners;
    if (listeners.length && !this.paused && !this.readersBehind && !this.held.length) {
      for (let i = 0; i < listeners.length; i++) listeners[i]!(data);
    } else if (!listeners.length && this.discarding) {
      // close() was called and nobody reads: dropped, as promised.
    } else {
      this.hold(data);
    }
  }

  /** Whether data arriving now would be held (no consumer takes it, and close() did not say to drop it). */
  get holding(): boolean {
    const listeners = this.dataListeners.length;
    if (listeners && !this.paused && !this.readersBehind && !this.held.length) return false;
    return !(!listeners && this.discarding);
  }

  /** What the held data costs: its bytes and an array each (the memory budget's charge). */
  get heldCharge(): number {
    return this.heldBytes + this.held.length * BUFFER_OVERHEAD_BYTES;
  }

  private hold(data: Uint8Array): void {
    let held = this.held;
    if (held === NOTHING_HELD) held = this.held = [];
    this.heldBytes += data.length;
    const last = held[held.length - 1];
    // Held chunks are the socket's own copies: a small one after a small one is joined to it.
    if (last && data.length < SMALL_CHUNK_BYTES && last.length + data.length <= JOINED_CHUNK_BYTES) {
      const joined = new Uint8Array(last.length + data.length);
      joined.set(last);
      joined.set(data, last.length);
      held[held.length - 1] = joined;
      this.engine.heldChanged(data.length);
      return;
    }
    held.push(data);
    this.engine.heldChanged(data.length + BUFFER_OVERHEAD_BYTES);
  }

  /** The peer's FIN arrived, after the last byte. */
  peerEnded(): void {
    this.finReceived = true;
    this.deliverEndIfDue();
  }

  /** The connection is over. */
  closed(reason: CloseReason): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    if (reason === 'normal') this.deliverEndIfDue();
    const listeners = this.closeListeners;
    this.closeListeners = NO_LISTENERS;
    this.drainListeners = NO_LISTENERS;
    for (const listener of listeners) listener(reason);
  }

  /** The send buffer has room again after a short write. */
  drain(): void {
    this.wantsDrain = false;
    const listeners = this.drainListeners;
    this.drainListeners = NO_LISTENERS;
    for (const listener of listeners) listener();
  }

  /**
   * Delivers held chunks while someone consumes them, stopping when a consumer pauses or falls behind;
   * then the end, if it came and nothing is held. Not re-entered: a listener that resumes or adds a
   * consumer lets the running loop go on.
   */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    let taken = 0;
    let released = 0;
    while (this.held.length && this.dataListeners.length && !this.paused && !this.readersBehind) {
      const chunk = this.held.shift()!;
      this.heldBytes -= chunk.length;
      released += chunk.length + BUFFER_OVERHEAD_BYTES;
      taken++;
      const listeners = this.dataListeners;
      for (let i = 0; i < listeners.length; i++) listeners[i]!(chunk);
    }
    this.flushing = false;
    if (released) this.engine.heldChanged(-released);
    if (this.held !== NOTHING_HELD && !this.held.length) this.held = NOTHING_HELD;
    if (taken) this.engine.windowOpened();
    this.deliverEndIfDue();
  }

  private deliverEndIfDue(): void {
    if (this.endDelivered || !this.finReceived || this.held.length) return;
    this.endDelivered = true;
    const listeners = this.endListeners;
    this.endListeners = NO_LISTENERS;
    for (const listener of listeners) listener();
  }
}
