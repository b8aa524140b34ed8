import type { Ipv4Address } from '../address.js';
import type { NetClock, TimerHandle } from '../clock.js';
import { TcpFlag, type TcpRepr } from '../tcp.js';
import { RttEstimator } from './rtt.js';
import { SendBuffer } from './send-buffer.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqInRange, seqLe, seqLt, seqMax } from './sequence.js';

export type TcpState =
  | 'syn-sent'
  | 'syn-received'
  | 'established'
  | 'fin-wait-1'
  | 'fin-wait-2'
  | 'close-wait'
  | 'closing'
  | 'last-ack'
  | 'time-wait'
  | 'closed';

/** Why a connection ended. */
export type CloseReason = 'normal' | 'reset' | 'refused' | 'timeout' | 'aborted';

export type WriteResult = { ok: true; accepted: number } | { ok: false; error: 'closed' | 'ending' };
export type ConnectResult = { ok: true } | { ok: false; error: 'refused' | 'timeout' | 'reset' | 'aborted' };

export interface KeepAliveOptions {
  /** Idle time before the first probe (default 2 hours). */
  idleMs?: number;
  intervalMs?: number;
  probes?: number;
}

export interface TcpOptions {
  /** Bytes the application may have written and not yet acknowledged (default 64 KiB). */
  sendBufferBytes?: number;
  /** Bytes received and not yet taken by the application, which bounds the window (default 128 KiB). */
  receiveBufferBytes?: number;
  /** Disables Nagle's algorithm (default: Nagle on). */
  noDelay?: boolean;
  /** Keepalive probes on an idle connection (default off). */
  keepAlive?: KeepAliveOptions | false;
  /** Longest an ACK waits for company (default 40 ms). */
  delayedAckMs?: number;
  /** 2 MSL (default 60 s). */
  timeWaitMs?: number;
  /** Retransmissions of one segment before the connection is given up (default 12; SYNs 6). */
  maxRetransmits?: number;
  minimumRtoMs?: number;
  initialRtoMs?: number;
  sack?: boolean;
  timestamps?: boolean;
  windowScaling?: boolean;
}

/** A segment as the connection sees it (parsed by the layer). */
export interface IncomingSegment {
  sequence: number;
  acknowledgment: number;
  flags: number;
  window: number;
  payload: Uint8Array;
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  sackBlocks?: [number, number][];
  timestamps?: { value: number; echo: number };
}

/** What the connection needs from the TCP layer. */
export interface ConnectionHost {
  clock: NetClock;
  /** Sends a segment; `payload` copies `length` bytes into the frame at `offset`. */
  send(connection: TcpConnection, repr: TcpRepr, payloadLength: number, payload?: (buffer: Uint8Array, offset: number) => void): boolean;
  /** The connection is gone: forget it. */
  release(connection: TcpConnection): void;
  /** A passive connection reached ESTABLISHED: hand it to its listener. */
  established(connection: TcpConnection): void;
  /** Whether another challenge ACK may go out now (RFC 5961 rate limit). */
  allowChallengeAck(): boolean;
  /** The largest segment payload the route allows (MTU - 40). */
  localMss: number;
  stats: ConnectionStats;
}

export interface ConnectionStats {
  segments_tx: { increment(by?: number): void };
  retransmits: { increment(by?: number): void };
  fast_retransmits: { increment(by?: number): void };
  timeouts: { increment(by?: number): void };
  resets_rx: { increment(by?: number): void };
  resets_tx: { increment(by?: number): void };
  challenge_acks: { increment(by?: number): void };
  out_of_order: { increment(by?: number): void };
  duplicate_segments: { increment(by?: number): void };
  zero_window_probes: { increment(by?: number): void };
  keepalives: { increment(by?: number): void };
}

const MAX_WINDOW_SHIFT = 14;
const DEFAULT_MSS = 536;
const SYN_RETRANSMITS = 6;
const MAX_SACK_BLOCKS = 3; // with timestamps in the header

interface OutOfOrder {
  sequence: number;
  data: Uint8Array;
}

/**
 * One TCP connection (RFC 9293): the state machine, the send side (buffer with backpressure, Nagle,
 * RFC 6298 retransmission timer with backoff, NewReno congestion control with fast retransmit and
 * recovery per RFC 5681/6582, SACK-guided retransmission, persist probes for a zero window), the receive
 * side (in-order delivery, out-of-order reassembly reported by SACK, delayed ACKs, window scaling,
 * timestamps with PAWS per RFC 7323), RFC 5961 challenge ACKs, keepalive, half-close and TIME-WAIT.
 * The data path never throws: operations answer with results.
 */
export class TcpConnection {
  state: TcpState;
  readonly localAddress: Ipv4Address;
  readonly localPort: number;
  readonly remoteAddress: Ipv4Address;
  readonly remotePort: number;
  /** Payload bytes received in order (delivered or held), for diagnostics: a connection table's "bytes in". */
  bytesIn = 0;
  /** Payload bytes sent and acknowledged by the peer (retransmissions count once): "bytes out". */
  bytesOut = 0;

  // Send sequence space.
  private iss: number;
  private sendUnacknowledged: number;
  private sendNext: number;
  /** The highest sequence number sent so far (SND.MAX). */
  private sendMax: number;
  private sendWindow = 0;
  private sendWindowLast1 = 0;
  private sendWindowLast2 = 0;
  private maxSendWindow = 0;
  // Receive sequence space.
  private receiveNext = 0;
  private irs = 0;

  private readonly sendBuffer: SendBuffer;
  private readonly receiveCapacity: number;
  /** In-order bytes delivered to nobody yet (no onData listener); they hold the window shut. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private outOfOrder: OutOfOrder[] = [];
  private outOfOrderBytes = 0;
  /** RCV.NXT plus the largest window we advertised (in sequence space); the offered window never ends before it. */
  private advertisedEdge = 0;
  /** The most recent out-of-order arrival, reported first in SACK (RFC 2018). */
  private lastOutOfOrder: number | undefined;

  // Negotiated.
  private mss = DEFAULT_MSS;
  private sendShift = 0;
  private receiveShift = 0;
  private sackEnabled: boolean;
  private timestampsEnabled: boolean;
  private windowScalingEnabled: boolean;
  private tsRecent = 0;
  private lastAckSent = 0;
  /** SACKed ranges the peer reported, [start, end), sorted. */
  private scoreboard: [number, number][] = [];

  // Congestion control.
  private congestionWindow: number;
  private slowStartThreshold = 0x7fffffff;
  private duplicateAcks = 0;
  private recover: number;
  private inRecovery = false;
  /** Where the next retransmission in recovery starts (the first un-SACKed hole at or after it). */
  private retransmitNext: number;

  // Timers.
  private readonly rtt: RttEstimator;
  private retransmitTimer: TimerHandle | undefined;
  /** When the retransmission timeout is due, and when the timer set for it fires (never later than due). */
  private retransmitDeadline = 0;
  private retransmitTimerAt = 0;
  private retransmitCount = 0;
  private delayedAckTimer: TimerHandle | undefined;
  /** Data arrived that no ACK has covered yet (the delayed-ACK timer sends one). */
  private delayedAckOwed = false;
  private unackedSegments = 0;
  private persistTimer: TimerHandle | undefined;
  private persistBackoff = 0;
  private timeWaitTimer: TimerHandle | undefined;
  private keepAliveTimer: TimerHandle | undefined;
  private keepAliveProbes = 0;
  private lastActivity: number;
  /** A segment timed without timestamps: [sequence it ends at, sent at]. */
  private timedSegment: [number, number] | undefined;

  // Application side.
  private finRequested = false;
  private finSent = false;
  private finReceived = false;
  private endDelivered = false;
  private closedWith: CloseReason | undefined;
  private readonly noDelay: boolean;
  private readonly keepAlive: Required<KeepAliveOptions> | undefined;
  private readonly delayedAckMs: number;
  private readonly timeWaitMs: number;
  private readonly maxRetransmits: number;
  private dataListener: ((data: Uint8Array) => void) | undefined;
  private readonly endListeners: (() => void)[] = [];
  private readonly closeListeners: ((reason: CloseReason) => void)[] = [];
  private readonly drainListeners: (() => void)[] = [];
  private readonly connectWaiters: ((result: ConnectResult) => void)[] = [];
  private wantsDrain = false;
  private paused = false;

  constructor(
    private readonly host: ConnectionHost,
    local: { address: Ipv4Address; port: number },
    remote: { address: Ipv4Address; port: number },
    iss: number,
    options: TcpOptions,
    state: 'syn-sent' | 'syn-received',
  ) {
    this.localAddress = local.address;
    this.localPort = local.port;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
    this.state = state;
    this.iss = iss;
    this.sendUnacknowledged = iss;
    this.sendNext = iss;
    this.sendMax = iss;
    this.recover = iss;
    this.retransmitNext = iss;
    this.sendBuffer = new SendBuffer(options.sendBufferBytes ?? 64 * 1024);
    this.receiveCapacity = options.receiveBufferBytes ?? 128 * 1024;
    this.noDelay = options.noDelay ?? false;
    this.keepAlive = options.keepAlive
      ? {
          idleMs: options.keepAlive.idleMs ?? 7_200_000,
          intervalMs: options.keepAlive.intervalMs ?? 75_000,
          probes: options.keepAlive.probes ?? 9,
        }
      : undefined;
    this.delayedAckMs = options.delayedAckMs ?? 40;
    this.timeWaitMs = options.timeWaitMs ?? 60_000;
    this.maxRetransmits = options.maxRetransmits ?? 12;
    this.sackEnabled = options.sack ?? true;
    this.timestampsEnabled = options.timestamps ?? true;
    this.windowScalingEnabled = options.windowScaling ?? true;
    this.rtt = new RttEstimator({ minimumMs: options.minimumRtoMs ?? 200, initialMs: options.initialRtoMs ?? 1000 });
    this.congestionWindow = 10 * DEFAULT_MSS;
    this.lastActivity = host.clock.now();
    let shift = 0;
    while (shift < MAX_WINDOW_SHIFT && this.receiveCapacity >> shift > 0xffff) shift++;
    this.receiveShift = shift;
  }

  // ---------------------------------------------------------------- the application's side

  /**
   * Sets the one data receiver: bytes in order, as they arrive (the chunks are yours to keep). A later
   * call replaces the receiver; bytes that arrive with no receiver are held and close the window.
   */
  onData(listener: (data: Uint8Array) => void): void {
    this.dataListener = listener;
    if (this.held.length && !this.paused) {
      const held = this.held;
      this.held = [];
      this.heldBytes = 0;
      for (const chunk of held) listener(chunk);
      this.windowUpdateIfOpened();
    }
    if (this.finReceived && !this.endDelivered) this.deliverEnd();
  }

  /**
   * Stops delivering data: what arrives is held, and the window closes as it fills, so the peer slows
   * down (read-side backpressure). `resume` delivers what was held.
   */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.dataListener && this.held.length) {
      const held = this.held;
      this.held = [];
      this.heldBytes = 0;
      for (const chunk of held) {
        this.dataListener(chunk);
        if (this.paused) {
          // Paused again inside the listener: keep the rest.
          const rest = held.slice(held.indexOf(chunk) + 1);
          this.held = rest;
          this.heldBytes = rest.reduce((n, c) => n + c.length, 0);
          break;
        }
      }
      this.windowUpdateIfOpened();
    }
    if (this.finReceived && !this.endDelivered) this.deliverEnd();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The peer finished sending (it may still read). */
  onEnd(listener: () => void): void {
    this.endListeners.push(listener);
    if (this.endDelivered) listener();
    else if (this.finReceived && !this.held.length) this.deliverEnd();
  }

  /** The connection is over, and why. */
  onClose(listener: (reason: CloseReason) => void): void {
    this.closeListeners.push(listener);
    if (this.closedWith) listener(this.closedWith);
  }

  /** Calls `listener` once, the next time the send buffer has room after a write took less than it was given. */
  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  /** Resolves when the connection is established, or with why it never was. */
  opened(): Promise<ConnectResult> {
    if (this.state !== 'syn-sent' && this.state !== 'syn-received') {
      return Promise.resolve(
        this.closedWith ? { ok: false, error: this.closedWith === 'normal' ? 'aborted' : this.closedWith } : { ok: true },
      );
    }
    return new Promise((resolve) => this.connectWaiters.push(resolve));
  }

  /** Queues data; takes what fits in the send buffer (see onDrain). */
  write(data: Uint8Array): WriteResult {
    if (this.state === 'closed' || this.state === 'time-wait') return { ok: false, error: 'closed' };
    if (this.finRequested) return { ok: false, error: 'ending' };
    const accepted = this.sendBuffer.write(data);
    if (accepted < data.length) this.wantsDrain = true;
    if (this.state !== 'syn-sent' && this.state !== 'syn-received') this.output();
    return { ok: true, accepted };
  }

  /** Writes everything, waiting for room as needed. */
  async writeAll(data: Uint8Array): Promise<WriteResult> {
    let offset = 0;
    while (offset < data.length) {
      const result = this.write(data.subarray(offset));
      if (!result.ok) return result;
      offset += result.accepted;
      if (offset < data.length) {
        const outcome = await new Promise<'drain' | 'closed'>((resolve) => {
          const onClosed = (): void => resolve('closed');
          this.closeListeners.push(onClosed);
          this.drainListeners.push(() => {
            const at = this.closeListeners.indexOf(onClosed);
            if (at >= 0) this.closeListeners.splice(at, 1);
            resolve('drain');
          });
        });
        if (outcome === 'closed') return { ok: false, error: 'closed' };
      }
    }
    return { ok: true, accepted: data.length };
  }

  /**
   * Half-closes: a FIN follows the data already written (once the handshake is done, if it is still
   * going on). Reading goes on until the peer ends.
   */
  end(): void {
    if (this.finRequested || this.state === 'closed' || this.state === 'time-wait') return;
    this.finRequested = true;
    if (this.state !== 'syn-sent' && this.state !== 'syn-received') this.output();
  }

  /** Ends both directions gracefully (end(), and data arriving later is discarded). */
  close(): void {
    this.dataListener ??= () => {};
    this.end();
  }

  /** Ends the connection at once with a reset. */
  abort(): void {
    if (this.state === 'closed') return;
    if (this.state !== 'syn-sent' && this.state !== 'time-wait') this.sendReset(this.sendNext);
    this.terminate('aborted');
  }

  /** Bytes written and not yet acknowledged. */
  get pendingBytes(): number {
    return this.sendBuffer.length;
  }

  get smoothedRttMs(): number | undefined {
    return this.rtt.smoothedMs;
  }

  /** Chunks as they arrive, until the peer ends or the connection closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const queue: Uint8Array[] = [];
    let done = false;
    let wake: (() => void) | undefined;
    this.onData((data) => {
      queue.push(data);
      wake?.();
    });
    this.onEnd(() => {
      done = true;
      wake?.();
    });
    this.onClose(() => {
      done = true;
      wake?.();
    });
    for (;;) {
      if (queue.length) {
        yield queue.shift()!;
        continue;
      }
      if (done) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  }

  // ---------------------------------------------------------------- opening

  /** Active open: send the SYN. */
  connect(): void {
    this.sendSyn(false);
  }

  /** Passive open: a listener's SYN arrived. */
  acceptSyn(segment: IncomingSegment): void {
    this.irs = segment.sequence;
    this.receiveNext = seqAdd(segment.sequence, 1);
    this.advertisedEdge = this.receiveNext;
    this.negotiate(segment);
    this.sendWindow = segment.window; // unscaled in a SYN
    this.maxSendWindow = this.sendWindow;
    this.sendWindowLast1 = segment.sequence;
    this.sendSyn(true);
  }

  private negotiate(syn: IncomingSegment): void {
    this.mss = Math.max(64, Math.min(syn.mss ?? DEFAULT_MSS, this.host.localMss));
    if (this.windowScalingEnabled && syn.windowScale !== undefined) {
      this.sendShift = Math.min(syn.windowScale, MAX_WINDOW_SHIFT);
    } else {
      this.windowScalingEnabled = false;
      this.sendShift = 0;
      this.receiveShift = 0;
    }
    this.sackEnabled = this.sackEnabled && syn.sackPermitted === true;
    this.timestampsEnabled = this.timestampsEnabled && syn.timestamps !== undefined;
    if (this.timestampsEnabled) this.tsRecent = syn.timestamps!.value;
    this.congestionWindow = 10 * this.effectiveMss;
  }

  /** Payload bytes per segment, after the timestamp option. */
  private get effectiveMss(): number {
    return this.mss - (this.timestampsEnabled ? 12 : 0);
  }

  /** The payload that fits one segment now: the effective MSS less the SACK blocks it will carry (so no IP fragments). */
  private get segmentLimit(): number {
    const blocks = this.sackEnabled && this.outOfOrder.length ? this.sackBlocks().length : 0;
    return this.effectiveMss - (blocks ? 4 + 8 * blocks : 0);
  }

  private sendSyn(withAck: boolean): void {
    const repr: TcpRepr = {
      sourcePort: this.localPort,
      destinationPort: this.remotePort,
      sequence: this.iss,
      acknowledgment: withAck ? this.receiveNext : 0,
      flags: TcpFlag.syn | (withAck ? TcpFlag.ack : 0),
      window: Math.min(this.receiveCapacity, 0xffff),
      mss: this.host.localMss,
    };
    if (this.windowScalingEnabled) repr.windowScale = this.receiveShift;
    if (this.sackEnabled) repr.sackPermitted = true;
    if (this.timestampsEnabled) repr.timestamps = { value: this.timestampNow(), echo: withAck ? this.tsRecent : 0 };
    this.host.send(this, repr, 0);
    this.host.stats.segments_tx.increment();
    this.sendNext = seqAdd(this.iss, 1);
    this.sendMax = this.sendNext;
    if (withAck) this.lastAckSent = this.receiveNext;
    this.armRetransmit();
  }

  // ---------------------------------------------------------------- segment arrival (RFC 9293 §3.10.7)

  receive(segment: IncomingSegment): void {
    if (this.state === 'closed') return;
    this.lastActivity = this.host.clock.now();
    this.keepAliveProbes = 0;
    if (this.state === 'syn-sent') {
      this.receiveInSynSent(segment);
      return;
    }
    if (this.state === 'time-wait') {
      this.receiveInTimeWait(segment);
      return;
    }
    const flags = segment.flags;
    // The peer did not get our SYN-ACK and sent its SYN again: answer it again.
    if (this.state === 'syn-received' && flags & TcpFlag.syn && !(flags & TcpFlag.ack) && segment.sequence === this.irs) {
      this.sendSyn(true);
      return;
    }
    const length = segment.payload.length + (flags & TcpFlag.syn ? 1 : 0) + (flags & TcpFlag.fin ? 1 : 0);

    // PAWS (RFC 7323 §5): a segment older than the last one we accepted is a stale duplicate.
    if (
      this.timestampsEnabled &&
      segment.timestamps &&
      !(flags & TcpFlag.rst) &&
      seqLt(segment.timestamps.value, this.tsRecent) &&
      this.state !== 'syn-received'
    ) {
      this.host.stats.duplicate_segments.increment();
      this.sendAck();
      return;
    }

    // Acceptability (RFC 9293 §3.10.7.4, first check), against the window the peer was offered.
    const window = this.offeredWindow;
    const acceptable =
      length === 0
        ? window === 0
          ? segment.sequence === this.receiveNext
          : seqInRange(segment.sequence, this.receiveNext, seqAdd(this.receiveNext, window))
        : window > 0 &&
          (seqInRange(segment.sequence, this.receiveNext, seqAdd(this.receiveNext, window)) ||
            seqInRange(seqAdd(segment.sequence, length - 1), this.receiveNext, seqAdd(this.receiveNext, window)));
    if (!acceptable) {
      if (!(flags & TcpFlag.rst)) {
        this.host.stats.duplicate_segments.increment();
        this.sendAck();
      }
      return;
    }

    // RST (RFC 5961 §3.2): only an exact match resets; anything else in the window gets a challenge ACK.
    if (flags & TcpFlag.rst) {
      if (segment.sequence === this.receiveNext) {
        this.host.stats.resets_rx.increment();
        this.terminate(this.state === 'syn-received' ? 'refused' : 'reset');
      } else {
        this.challengeAck();
      }
      return;
    }

    // SYN in a synchronized state (RFC 5961 §4): challenge ACK, never a reset.
    if (flags & TcpFlag.syn) {
      this.challengeAck();
      return;
    }

    if (!(flags & TcpFlag.ack)) return;

    // RFC 5961 §5: an ACK for data not sent, or older than the window the peer can know of, is dropped.
    if (
      seqGt(segment.acknowledgment, this.sendMax) ||
      seqLt(segment.acknowledgment, (this.sendUnacknowledged - this.maxSendWindow) >>> 0)
    ) {
      this.challengeAck();
      return;
    }

    if (this.state === 'syn-received') {
      if (!seqInRange(segment.acknowledgment, seqAdd(this.sendUnacknowledged, 1), seqAdd(this.sendNext, 1))) {
        this.sendReset(segment.acknowledgment);
        return;
      }
      this.state = 'established';
      this.sendUnacknowledged = segment.acknowledgment;
      this.sendWindow = segment.window << this.sendShift;
      this.maxSendWindow = Math.max(this.maxSendWindow, this.sendWindow);
      this.sendWindowLast1 = segment.sequence;
      this.sendWindowLast2 = segment.acknowledgment;
      this.retransmitCount = 0;
      this.cancelRetransmit();
      this.resolveConnect({ ok: true });
      this.host.established(this);
      this.armKeepAlive();
    }

    if (this.timestampsEnabled && segment.timestamps && seqLe(segment.sequence, this.lastAckSent)) {
      this.tsRecent = segment.timestamps.value;
    }

    this.processAck(segment);
    if ((this.state as TcpState) === 'closed') return; // processAck may have ended it

    if (segment.payload.length && this.acceptsData()) this.processData(segment);
    else if (segment.payload.length) this.sendAck(); // data after we stopped reading: acknowledge, drop

    if (flags & TcpFlag.fin) this.processFin(segment);

    this.output();
  }

  private receiveInSynSent(segment: IncomingSegment): void {
    const flags = segment.flags;
    if (flags & TcpFlag.ack && !seqInRange(segment.acknowledgment, seqAdd(this.iss, 1), seqAdd(this.sendMax, 1))) {
      if (!(flags & TcpFlag.rst)) this.sendReset(segment.acknowledgment);
      return;
    }
    if (flags & TcpFlag.rst) {
      if (flags & TcpFlag.ack) {
        this.host.stats.resets_rx.increment();
        this.terminate('refused');
      }
      return;
    }
    if (!(flags & TcpFlag.syn)) return;
    this.irs = segment.sequence;
    this.receiveNext = seqAdd(segment.sequence, 1);
    this.advertisedEdge = this.receiveNext;
    this.negotiate(segment);
    if (this.timestampsEnabled) this.tsRecent = segment.timestamps!.value;
    if (flags & TcpFlag.ack) {
      this.sendUnacknowledged = segment.acknowledgment;
      this.sendWindow = segment.window; // a SYN's window is never scaled (RFC 7323 §2.2)
      this.maxSendWindow = this.sendWindow;
      this.sendWindowLast1 = segment.sequence;
      this.sendWindowLast2 = segment.acknowledgment;
      this.cancelRetransmit();
      this.retransmitCount = 0;
      if (this.timestampsEnabled && segment.timestamps?.echo) this.rtt.sample(this.timestampNow() - segment.timestamps.echo);
      this.state = 'established';
      this.sendAck();
      this.resolveConnect({ ok: true });
      this.armKeepAlive();
      this.output();
      return;
    }
    // Simultaneous open (RFC 9293 §3.5, figure 8): answer with SYN-ACK from SYN-RECEIVED.
    this.state = 'syn-received';
    this.sendWindow = segment.window;
    this.maxSendWindow = this.sendWindow;
    this.sendSyn(true);
  }

  private processAck(segment: IncomingSegment): void {
    const ack = segment.acknowledgment;
    const windowRaw = segment.window << this.sendShift;
    const outstanding = seqDiff(this.sendMax, this.sendUnacknowledged) > 0;

    if (this.sackEnabled && segment.sackBlocks?.length) this.updateScoreboard(segment.sackBlocks, ack);

    if (seqGt(ack, this.sendUnacknowledged)) {
      // New data acknowledged.
      const acked = Math.min(seqDiff(ack, this.sendUnacknowledged), this.sendBuffer.length); // the FIN is no data
      this.sampleRtt(segment, ack);
      this.sendBuffer.release(acked);
      this.bytesOut += acked;
      this.sendUnacknowledged = ack;
      if (seqLt(this.sendNext, ack)) this.sendNext = ack;
      this.retransmitCount = 0;
      this.pruneScoreboard();
      this.onNewAck(ack, acked);
      if (this.sendUnacknowledged === this.sendMax) this.cancelRetransmit();
      else this.armRetransmit(true);
      if (this.wantsDrain && this.sendBuffer.free > 0 && this.sendBuffer.free >= Math.min(this.sendBuffer.capacity / 4, 16384)) {
        this.wantsDrain = false;
        for (const l of this.drainListeners.splice(0)) l();
      }
    } else if (
      ack === this.sendUnacknowledged &&
      outstanding &&
      segment.payload.length === 0 &&
      !(segment.flags & (TcpFlag.syn | TcpFlag.fin)) &&
      windowRaw === this.sendWindow
    ) {
      this.onDuplicateAck();
    }

    // Window update (RFC 9293: SND.WL1/WL2).
    if (seqLt(this.sendWindowLast1, segment.sequence) || (this.sendWindowLast1 === segment.sequence && seqLe(this.sendWindowLast2, ack))) {
      const opened = windowRaw > this.sendWindow;
      this.sendWindow = windowRaw;
      this.maxSendWindow = Math.max(this.maxSendWindow, windowRaw);
      this.sendWindowLast1 = segment.sequence;
      this.sendWindowLast2 = ack;
      if (opened && this.persistTimer) this.cancelPersist();
    }

    // Our FIN acknowledged.
    if (this.finSent && ack === this.sendMax) {
      if (this.state === 'fin-wait-1') this.state = 'fin-wait-2';
      else if (this.state === 'closing') this.enterTimeWait();
      else if (this.state === 'last-ack') this.terminate('normal');
    }
  }

  private sampleRtt(segment: IncomingSegment, ack: number): void {
    if (this.timestampsEnabled && segment.timestamps?.echo) {
      this.rtt.sample(this.timestampNow() - segment.timestamps.echo);
    } else if (this.timedSegment && seqGe(ack, this.timedSegment[0])) {
      this.rtt.sample(this.host.clock.now() - this.timedSegment[1]);
      this.timedSegment = undefined;
    }
  }

  /** Congestion window growth, and NewReno recovery on partial and full ACKs (RFC 5681, 6582). */
  private onNewAck(ack: number, acked: number): void {
    const mss = this.effectiveMss;
    if (this.inRecovery) {
      if (seqGe(ack, this.recover)) {
        // Full ACK: leave recovery with the window deflated (RFC 6582 3.2 step 3, option 1).
        this.inRecovery = false;
        this.congestionWindow = Math.max(Math.min(this.slowStartThreshold, this.flightSize + mss), 2 * mss);
        this.duplicateAcks = 0;
      } else {
        // Partial ACK: retransmit the next hole, deflate by what was acknowledged, add one segment back.
        this.retransmitNext = seqMax(this.retransmitNext, ack);
        this.retransmitHole();
        this.congestionWindow = Math.max(mss, this.congestionWindow - acked + mss);
      }
      return;
    }
    this.duplicateAcks = 0;
    if (this.congestionWindow < this.slowStartThreshold) this.congestionWindow += Math.min(acked, mss);
    else this.congestionWindow += Math.max(1, Math.floor((mss * mss) / this.congestionWindow));
  }

  private onDuplicateAck(): void {
    const mss = this.effectiveMss;
    this.duplicateAcks++;
    if (this.inRecovery) {
      this.congestionWindow += mss; // inflate for the segment that left the network
      if (this.sackEnabled) this.retransmitHole();
      return;
    }
    // Three duplicates (or, with SACK, three segments' worth SACKed above SND.UNA) mean a loss: fast
    // retransmit, unless the ACK does not reach past `recover`, where the last recovery already was.
    const lossSignalled = this.duplicateAcks >= 3 || (this.sackEnabled && this.sackedBytes() >= 3 * mss);
    if (lossSignalled && seqGt(this.sendUnacknowledged, this.recover)) {
      this.slowStartThreshold = Math.max(Math.floor(this.flightSize / 2), 2 * mss);
      this.recover = this.sendMax;
      this.inRecovery = true;
      this.retransmitNext = this.sendUnacknowledged;
      this.host.stats.fast_retransmits.increment();
      this.retransmitHole();
      this.congestionWindow = this.slowStartThreshold + 3 * mss;
    }
  }

  private get flightSize(): number {
    return seqDiff(this.sendMax, this.sendUnacknowledged);
  }

  /** Resends one segment: the first range at or after retransmitNext that the peer has not SACKed. */
  private retransmitHole(): void {
    const dataEnd = seqAdd(this.sendUnacknowledged, this.sendBuffer.length);
    let start = seqMax(this.retransmitNext, this.sendUnacknowledged);
    for (const [s, e] of this.scoreboard) if (seqLe(s, start) && seqLt(start, e)) start = e;
    if (seqGe(start, this.sendMax)) return;
    // Above SND.UNA, a range counts as lost only with three segments' worth SACKed beyond it (RFC 6675
    // IsLost); short of that it may still be on its way, and new data goes out instead.
    if (start !== this.sendUnacknowledged) {
      let sackedAbove = 0;
      for (const [s, e] of this.scoreboard) if (seqGt(s, start)) sackedAbove += seqDiff(e, s);
      if (sackedAbove < 3 * this.effectiveMss) return;
    }
    if (seqGe(start, dataEnd)) {
      // Only the FIN is left to resend.
      if (this.finSent) {
        this.sendData(dataEnd, 0, true, true);
        this.retransmitNext = seqAdd(dataEnd, 1);
      }
      return;
    }
    let end = seqAdd(start, this.segmentLimit);
    if (seqGt(end, dataEnd)) end = dataEnd;
    // A retransmission resends; bytes never sent go out through output(), which moves SND.MAX.
    if (seqGt(end, this.sendMax)) end = this.sendMax;
    for (const [s] of this.scoreboard) if (seqGt(s, start) && seqLt(s, end)) end = s;
    const fin = this.finSent && end === dataEnd;
    this.sendData(start, seqDiff(end, start), fin, true);
    this.retransmitNext = seqAdd(end, fin ? 1 : 0);
  }

  private updateScoreboard(blocks: [number, number][], ack: number): void {
    for (const [start, end] of blocks) {
      // Ignore blocks below the ACK (D-SACK) or beyond what was sent.
      if (seqLe(end, ack) || seqGt(end, this.sendMax) || seqGe(start, end)) continue;
      this.scoreboard.push([start, end]);
    }
    this.scoreboard.sort((a, b) => seqDiff(a[0], b[0]));
    const merged: [number, number][] = [];
    for (const block of this.scoreboard) {
      const last = merged[merged.length - 1];
      if (last && seqLe(block[0], last[1])) last[1] = seqMax(last[1], block[1]);
      else merged.push([block[0], block[1]]);
    }
    this.scoreboard = merged.slice(0, 64);
  }

  private pruneScoreboard(): void {
    this.scoreboard = this.scoreboard.filter(([, end]) => seqGt(end, this.sendUnacknowledged));
    if (this.scoreboard.length && seqLt(this.scoreboard[0]![0], this.sendUnacknowledged)) this.scoreboard[0]![0] = this.sendUnacknowledged;
  }

  private sackedBytes(): number {
    let n = 0;
    for (const [s, e] of this.scoreboard) n += seqDiff(e, s);
    return n;
  }

  // ---------------------------------------------------------------- receiving data

  private acceptsData(): boolean {
    return this.state === 'established' || this.state === 'fin-wait-1' || this.state === 'fin-wait-2';
  }

  /**
   * The window we can offer from RCV.NXT: the receive buffer minus the in-order bytes waiting in it.
   * Out-of-order bytes lie inside that window already (they are kept only there), so they do not shrink it.
   */
  private get receiveWindow(): number {
    return Math.max(0, this.receiveCapacity - this.heldBytes);
  }

  /**
   * The window as the peer knows it: never less than what we advertised, so the right edge never moves
   * left (RFC 9293 §3.8.6.2.2), not even by the rounding of a scaled window.
   */
  private get offeredWindow(): number {
    return Math.max(this.receiveWindow, seqDiff(this.advertisedEdge, this.receiveNext));
  }

  private processData(segment: IncomingSegment): void {
    let sequence = segment.sequence;
    let data = segment.payload;
    // Trim what we already have, and what lies beyond the window.
    if (seqLt(sequence, this.receiveNext)) {
      const skip = seqDiff(this.receiveNext, sequence);
      data = data.subarray(skip);
      sequence = this.receiveNext;
    }
    const room = Math.max(0, this.offeredWindow - seqDiff(sequence, this.receiveNext));
    if (data.length > room) data = data.subarray(0, room);
    if (!data.length) {
      this.sendAck();
      return;
    }
    if (sequence === this.receiveNext) {
      this.receiveNext = seqAdd(this.receiveNext, data.length);
      this.deliver(data.slice());
      const filledHole = this.outOfOrder.length > 0;
      this.drainOutOfOrder();
      this.unackedSegments++;
      // Acknowledge at once every second full segment, when a hole filled, and after a SACK episode.
      if (filledHole || this.unackedSegments >= 2 || (data.length < this.effectiveMss && this.noDelay)) this.sendAck();
      else this.scheduleDelayedAck();
      return;
    }
    // Out of order: keep it (bounded by the window) and tell the sender at once (duplicate ACK + SACK).
    this.host.stats.out_of_order.increment();
    this.insertOutOfOrder(sequence, data.slice());
    this.lastOutOfOrder = sequence;
    this.sendAck();
  }

  private insertOutOfOrder(sequence: number, data: Uint8Array): void {
    const end = seqAdd(sequence, data.length);
    for (const o of this.outOfOrder) {
      if (seqLe(o.sequence, sequence) && seqGe(seqAdd(o.sequence, o.data.length), end)) return; // already held
    }
    this.outOfOrder.push({ sequence, data });
    this.outOfOrderBytes += data.length;
    this.outOfOrder.sort((a, b) => seqDiff(a.sequence, b.sequence));
  }

  private drainOutOfOrder(): void {
    while (this.outOfOrder.length) {
      const first = this.outOfOrder[0]!;
      const end = seqAdd(first.sequence, first.data.length);
      if (seqGt(first.sequence, this.receiveNext)) break;
      this.outOfOrder.shift();
      this.outOfOrderBytes -= first.data.length;
      if (seqGt(end, this.receiveNext)) {
        const fresh = first.data.subarray(seqDiff(this.receiveNext, first.sequence));
        this.receiveNext = end;
        this.deliver(fresh);
      }
    }
    if (!this.outOfOrder.length) this.lastOutOfOrder = undefined;
  }

  private deliver(data: Uint8Array): void {
    this.bytesIn += data.length;
    if (this.dataListener && !this.paused) this.dataListener(data);
    else {
      this.held.push(data);
      this.heldBytes += data.length;
    }
  }

  /** SACK blocks for the segments held out of order, the most recent first (RFC 2018 §4). */
  private sackBlocks(): [number, number][] {
    if (!this.sackEnabled || !this.outOfOrder.length) return [];
    const ranges: [number, number][] = [];
    for (const o of this.outOfOrder) {
      const end = seqAdd(o.sequence, o.data.length);
      const last = ranges[ranges.length - 1];
      if (last && seqLe(o.sequence, last[1])) last[1] = seqMax(last[1], end);
      else ranges.push([o.sequence, end]);
    }
    const recent = this.lastOutOfOrder;
    if (recent !== undefined) {
      const i = ranges.findIndex(([s, e]) => seqLe(s, recent) && seqLt(recent, e));
      if (i > 0) ranges.unshift(...ranges.splice(i, 1));
    }
    return ranges.slice(0, this.timestampsEnabled ? MAX_SACK_BLOCKS : 4);
  }

  private processFin(segment: IncomingSegment): void {
    const finSequence = seqAdd(segment.sequence, segment.payload.length);
    if (finSequence !== this.receiveNext || this.finReceived) {
      if (!this.finReceived) this.sendAck();
      return;
    }
    this.finReceived = true;
    this.receiveNext = seqAdd(this.receiveNext, 1);
    this.sendAck();
    switch (this.state) {
      case 'established':
        this.state = 'close-wait';
        break;
      case 'fin-wait-1':
        this.state = this.finSent && this.sendUnacknowledged === this.sendMax ? 'time-wait' : 'closing';
        if (this.state === 'time-wait') this.enterTimeWait();
        break;
      case 'fin-wait-2':
        this.enterTimeWait();
        break;
      default:
        break;
    }
    if (this.dataListener || this.endListeners.length) this.deliverEnd();
  }

  private deliverEnd(): void {
    if (this.endDelivered || this.held.length) return;
    this.endDelivered = true;
    for (const l of this.endListeners) l();
  }

  private windowUpdateIfOpened(): void {
    // Tell the peer when the window opens by a segment or more (receiver SWS avoidance).
    if (this.acceptsData() && this.receiveWindow >= Math.min(this.receiveCapacity / 2, this.effectiveMss)) this.sendAck();
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends what the windows allow from SND.NXT on: data (Nagle permitting), and the FIN with or after the
   * last byte once end() was called. After a timeout SND.NXT went back to SND.UNA, so the same loop
   * resends what was lost (go-back-N in slow start, skipping what the peer SACKed).
   */
  private output(): void {
    if (this.state === 'closed' || this.state === 'syn-sent' || this.state === 'syn-received' || this.state === 'time-wait') return;
    const mss = this.segmentLimit;
    for (;;) {
      // Going back after a timeout: skip what the peer has SACKed, and stop short of the next such range.
      let sackedAhead = Infinity;
      if (this.scoreboard.length && seqLt(this.sendNext, this.sendMax)) {
        for (const [start, end] of this.scoreboard) {
          if (seqLe(start, this.sendNext) && seqLt(this.sendNext, end)) this.sendNext = end;
          else if (seqGt(start, this.sendNext)) {
            sackedAhead = seqDiff(start, this.sendNext);
            break;
          }
        }
      }
      const dataEnd = this.sendBuffer.length;
      const nextOffset = seqDiff(this.sendNext, this.sendUnacknowledged);
      if (nextOffset > dataEnd) break; // the FIN is out too
      const unsent = dataEnd - nextOffset;
      if (unsent === 0 && !this.finRequested) break;
      let length = 0;
      if (unsent > 0) {
        const pipe = nextOffset - (this.sackEnabled ? this.sackedBytes() : 0);
        const byCongestion = this.congestionWindow - pipe;
        const byPeer = this.sendWindow - nextOffset;
        length = Math.min(unsent, mss, byCongestion, byPeer, sackedAhead);
        if (length <= 0) {
          if (byPeer <= 0 && nextOffset === 0) this.armPersist(); // a zero window with nothing in flight
          break;
        }
        // Nagle (RFC 896): a small segment waits while data is in flight, unless it is the last before a FIN.
        if (length < mss && !this.noDelay && nextOffset > 0 && !(this.finRequested && length === unsent)) break;
      }
      const fin = this.finRequested && length === unsent;
      this.sendData(this.sendNext, length, fin, seqLt(this.sendNext, this.sendMax));
      this.sendNext = seqAdd(this.sendNext, length + (fin ? 1 : 0));
      if (seqGt(this.sendNext, this.sendMax)) this.sendMax = this.sendNext;
      if (fin) {
        if (!this.finSent) this.finWasSent();
        break;
      }
    }
  }

  private finWasSent(): void {
    this.finSent = true;
    if (this.state === 'established') this.state = 'fin-wait-1';
    else if (this.state === 'close-wait') this.state = 'last-ack';
  }

  /** One segment of [sequence, sequence + length) from the send buffer (plus FIN). */
  /** A `probe` (zero-window) is timed like a retransmission but not counted as one. */
  private sendData(sequence: number, length: number, fin: boolean, retransmission: boolean, probe = false): void {
    const offset = seqDiff(sequence, this.sendUnacknowledged);
    const bufferEnd = this.sendBuffer.length;
    const count = Math.max(0, Math.min(length, bufferEnd - offset));
    const repr = this.segmentRepr(
      sequence,
      TcpFlag.ack | (fin ? TcpFlag.fin : 0) | (count && offset + count === bufferEnd ? TcpFlag.psh : 0),
    );
    this.host.send(this, repr, count, count ? (buffer, at) => this.sendBuffer.copy(offset, count, buffer, at) : undefined);
    this.host.stats.segments_tx.increment();
    this.afterAckSent();
    if (!retransmission && !this.timestampsEnabled && !this.timedSegment && count) {
      this.timedSegment = [seqAdd(sequence, count), this.host.clock.now()];
    }
    if (retransmission && !probe) this.host.stats.retransmits.increment();
    if (retransmission && this.timedSegment && seqLt(sequence, this.timedSegment[0])) this.timedSegment = undefined; // Karn
    this.armRetransmit();
  }

  private segmentRepr(sequence: number, flags: number): TcpRepr {
    const repr: TcpRepr = {
      sourcePort: this.localPort,
      destinationPort: this.remotePort,
      sequence,
      acknowledgment: this.receiveNext,
      flags,
      window: Math.min(0xffff, Math.ceil(this.offeredWindow / 2 ** this.receiveShift)),
    };
    const edge = seqAdd(this.receiveNext, repr.window * 2 ** this.receiveShift);
    if (seqGt(edge, this.advertisedEdge)) this.advertisedEdge = edge;
    if (this.timestampsEnabled) repr.timestamps = { value: this.timestampNow(), echo: this.tsRecent };
    const blocks = this.sackBlocks();
    if (blocks.length) repr.sackBlocks = blocks;
    return repr;
  }

  private sendAck(): void {
    if (this.state === 'closed' || this.state === 'syn-sent') return;
    // SND.MAX, not the SND.NXT a retransmission timeout moved back: a peer holding data up to SND.MAX
    // finds an older sequence number outside its window and would drop the ACK unread.
    this.host.send(this, this.segmentRepr(this.sendMax, TcpFlag.ack), 0);
    this.host.stats.segments_tx.increment();
    this.afterAckSent();
  }

  private afterAckSent(): void {
    this.lastAckSent = this.receiveNext;
    this.unackedSegments = 0;
    // The delayed-ACK timer stays set (cheaper than cancelling it every other segment); it finds nothing owed.
    this.delayedAckOwed = false;
  }

  private scheduleDelayedAck(): void {
    this.delayedAckOwed = true;
    if (this.delayedAckTimer) return; // set earlier: it fires sooner, which only acknowledges sooner
    this.delayedAckTimer = this.host.clock.setTimer(this.delayedAckMs, () => {
      this.delayedAckTimer = undefined;
      if (this.delayedAckOwed) this.sendAck();
    });
  }

  private challengeAck(): void {
    if (!this.host.allowChallengeAck()) return;
    this.host.stats.challenge_acks.increment();
    this.sendAck();
  }

  private sendReset(sequence: number): void {
    this.host.send(
      this,
      { sourcePort: this.localPort, destinationPort: this.remotePort, sequence, acknowledgment: 0, flags: TcpFlag.rst, window: 0 },
      0,
    );
    this.host.stats.resets_tx.increment();
  }

  private timestampNow(): number {
    return Math.floor(this.host.clock.now()) >>> 0 || 1;
  }

  // ---------------------------------------------------------------- timers

  /**
   * (Re)starts the retransmission timer. Every ACK restarts it, so only the deadline moves: a timer
   * already set to fire no later stays, and on firing early it sets itself again for what is left
   * (a timer set and cancelled per ACK costs more than the ACK's other work in the image).
   */
  private armRetransmit(restart = false): void {
    if (this.retransmitTimer && !restart) return;
    const now = this.host.clock.now();
    this.retransmitDeadline = now + this.rtt.timeoutMs;
    if (this.retransmitTimer && this.retransmitTimerAt <= this.retransmitDeadline) return;
    this.retransmitTimer?.cancel();
    this.setRetransmitTimer(this.rtt.timeoutMs);
  }

  private setRetransmitTimer(delayMs: number): void {
    this.retransmitTimerAt = this.host.clock.now() + delayMs;
    this.retransmitTimer = this.host.clock.setTimer(delayMs, () => {
      this.retransmitTimer = undefined;
      const left = this.retransmitDeadline - this.host.clock.now();
      if (left > 0) this.setRetransmitTimer(left);
      else this.onRetransmitTimeout();
    });
  }

  private cancelRetransmit(): void {
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
  }

  private onRetransmitTimeout(): void {
    this.retransmitTimer = undefined;
    if (this.state === 'closed' || this.state === 'time-wait') return;
    this.retransmitCount++;
    this.host.stats.timeouts.increment();
    const limit = this.state === 'syn-sent' || this.state === 'syn-received' ? SYN_RETRANSMITS : this.maxRetransmits;
    if (this.retransmitCount > limit) {
      this.terminate('timeout');
      return;
    }
    this.rtt.backOff();
    this.timedSegment = undefined;
    if (this.state === 'syn-sent' || this.state === 'syn-received') {
      this.sendSyn(this.state === 'syn-received');
      this.host.stats.retransmits.increment();
      return;
    }
    // RFC 5681 §3.1: slow start again from SND.UNA. What the peer SACKed is not sent again (as Linux
    // does); in case the peer reneged on it (RFC 2018 §8), a second timeout in a row forgets it.
    const mss = this.effectiveMss;
    this.slowStartThreshold = Math.max(Math.floor(this.flightSize / 2), 2 * mss);
    this.congestionWindow = mss;
    this.inRecovery = false;
    this.duplicateAcks = 0;
    this.recover = this.sendMax;
    if (this.retransmitCount > 1) this.scoreboard = [];
    this.sendNext = this.sendUnacknowledged;
    if (this.sendBuffer.length > 0 || this.finSent) {
      this.output();
    } else if (this.sendWindow === 0) {
      this.armPersist();
    }
    this.armRetransmit(true);
  }

  /** Zero-window probes: one byte beyond the window, backing off, until the window opens. */
  private armPersist(): void {
    if (this.persistTimer) return;
    const delay = Math.min(60_000, Math.max(this.rtt.timeoutMs, 200) * 2 ** this.persistBackoff);
    this.persistTimer = this.host.clock.setTimer(delay, () => {
      this.persistTimer = undefined;
      if (this.state === 'closed' || this.sendWindow > 0) {
        this.persistBackoff = 0;
        this.output();
        return;
      }
      const offset = seqDiff(this.sendNext, this.sendUnacknowledged);
      if (offset < this.sendBuffer.length) {
        this.host.stats.zero_window_probes.increment();
        this.sendData(this.sendNext, 1, false, true, true);
      } else {
        this.sendAck();
      }
      this.persistBackoff++;
      this.armPersist();
    });
  }

  private cancelPersist(): void {
    this.persistTimer?.cancel();
    this.persistTimer = undefined;
    this.persistBackoff = 0;
  }

  private armKeepAlive(): void {
    if (!this.keepAlive) return;
    this.keepAliveTimer?.cancel();
    const idle = this.keepAliveProbes === 0 ? this.keepAlive.idleMs : this.keepAlive.intervalMs;
    const since = this.host.clock.now() - this.lastActivity;
    this.keepAliveTimer = this.host.clock.setTimer(Math.max(0, idle - (this.keepAliveProbes === 0 ? since : 0)), () => {
      this.keepAliveTimer = undefined;
      if (this.state === 'closed' || this.state === 'time-wait') return;
      const quiet = this.host.clock.now() - this.lastActivity;
      if (this.keepAliveProbes === 0 && quiet < this.keepAlive!.idleMs) {
        this.armKeepAlive();
        return;
      }
      if (this.keepAliveProbes >= this.keepAlive!.probes) {
        this.terminate('timeout');
        return;
      }
      this.keepAliveProbes++;
      this.host.stats.keepalives.increment();
      // A probe: one sequence number below SND.UNA, no data; the peer answers with an ACK.
      this.host.send(this, this.segmentRepr(seqAdd(this.sendUnacknowledged, -1), TcpFlag.ack), 0);
      this.armKeepAlive();
    });
  }

  private enterTimeWait(): void {
    this.state = 'time-wait';
    this.cancelRetransmit();
    this.cancelPersist();
    this.keepAliveTimer?.cancel();
    this.timeWaitTimer?.cancel();
    this.timeWaitTimer = this.host.clock.setTimer(this.timeWaitMs, () => this.terminate('normal'));
    this.notifyClosedOnce('normal', false);
  }

  /** In TIME-WAIT a retransmitted FIN gets its ACK again and restarts the timer. */
  receiveInTimeWait(segment: IncomingSegment): void {
    if (segment.flags & TcpFlag.rst) return;
    if (segment.flags & TcpFlag.fin) {
      this.sendAck();
      this.timeWaitTimer?.cancel();
      this.timeWaitTimer = this.host.clock.setTimer(this.timeWaitMs, () => this.terminate('normal'));
    }
  }

  private notified = false;

  private notifyClosedOnce(reason: CloseReason, releaseHost: boolean): void {
    if (!this.notified) {
      this.notified = true;
      this.closedWith = reason;
      if (!this.endDelivered && reason === 'normal' && this.finReceived) this.deliverEnd();
      for (const l of this.closeListeners) l(reason);
    }
    if (releaseHost) this.host.release(this);
  }

  private resolveConnect(result: ConnectResult): void {
    for (const w of this.connectWaiters.splice(0)) w(result);
  }

  /** Ends the connection for good: timers off, listeners told, the layer forgets it. */
  terminate(reason: CloseReason): void {
    if (this.state === 'closed') return;
    const wasOpening = this.state === 'syn-sent' || this.state === 'syn-received';
    this.state = 'closed';
    this.cancelRetransmit();
    this.cancelPersist();
    this.delayedAckTimer?.cancel();
    this.keepAliveTimer?.cancel();
    this.timeWaitTimer?.cancel();
    this.outOfOrder = [];
    this.outOfOrderBytes = 0;
    if (wasOpening)
      this.resolveConnect({
        ok: false,
        error:
          reason === 'normal'
            ? 'aborted'
            : reason === 'timeout'
              ? 'timeout'
              : reason === 'reset'
                ? 'reset'
                : reason === 'refused'
                  ? 'refused'
                  : 'aborted',
      });
    this.notifyClosedOnce(reason, true);
  }

  /** For diagnostics and tests. */
  get debugState(): Record<string, number | string | boolean> {
    return {
      state: this.state,
      sendUnacknowledged: this.sendUnacknowledged,
      sendNext: this.sendNext,
      sendMax: this.sendMax,
      sendWindow: this.sendWindow,
      congestionWindow: this.congestionWindow,
      slowStartThreshold: this.slowStartThreshold,
      receiveNext: this.receiveNext,
      receiveWindow: this.receiveWindow,
      mss: this.mss,
      sendShift: this.sendShift,
      receiveShift: this.receiveShift,
      sack: this.sackEnabled,
      timestamps: this.timestampsEnabled,
      inRecovery: this.inRecovery,
      rtoMs: this.rtt.timeoutMs,
      outOfOrder: this.outOfOrder.length,
      irs: this.irs,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    };
  }
}
