import type { IpAddress } from '../../wire/address.js';
import { TcpFlag, type TcpRepr } from '../../wire/tcp.js';
import { Assembler } from './assembler.js';
import { NewReno } from './new-reno.js';
import type { ConnectionHost, IncomingSegment, PayloadCopier, TcpOptions } from './options.js';
import { DEFAULT_MSS, MAX_SACK_BLOCKS, MAX_SACK_BLOCKS_WITH_TIMESTAMPS, TIMESTAMP_OPTION_LENGTH } from './options.js';
import { MAX_WINDOW_SHIFT, ReceiveWindow } from './receive-window.js';
import { RttEstimator } from './rtt.js';
import { SendBuffer } from './send-buffer.js';
import { Sender, type SenderHost, timestampOf } from './sender.js';
import { seqAdd, seqInRange, seqLt } from './sequence.js';
import { outgoingRepr } from './segment-output.js';
import { ConnectionSocket, type SocketEngine } from './socket.js';
import type { CloseReason, ConnectResult, TcpState, WriteResult } from './tcp-socket.js';
import { enterTimeWait, finAcknowledged, resolveConnect, terminate } from './closing.js';
import type { TimeWaitRecord } from './time-wait.js';
import { DelayedAck, KeepAlive, type StateTimer } from './timers.js';

/** What every connection reads as its out-of-order queue until it needs one: empty, never written to. */
const NO_OUT_OF_ORDER = new Assembler(0);

/**
 * One TCP connection (RFC 9293): the state machine and segment arrival (RFC 9293 §3.10.7, with RFC 5961's
 * checks against blind attacks and RFC 7323's PAWS), the receive side (in-order delivery to the socket,
 * out-of-order data in the `Assembler`, the `ReceiveWindow`, delayed ACKs), the segments it builds (ACK,
 * window, timestamps, SACK blocks), keepalive, half-close and TIME-WAIT. The send side is the `Sender`
 * (with `NewReno` behind the `CongestionControl` interface and the `SackScoreboard`); the application
 * holds the `socket`, never this engine.
 *
 * The data path never throws: what arrives is checked and dropped or answered, operations answer with
 * results. Memory (issue 16): buffers are charged to the stack's budget as they fill and given back as
 * they drain; in TIME-WAIT the layer keeps a small record and lets this object go. Fields are few on
 * purpose: QuickJS keeps an object's properties in an array that grows in steps (up to 28 cost 546
 * bytes, from 29 on 772), and every idle connection pays for them.
 */
export class TcpConnection implements SocketEngine, SenderHost {
  state: TcpState;
  readonly localAddress: IpAddress;
  readonly localPort: number;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  /** The application's side: what services hold. */
  readonly socket: ConnectionSocket;
  readonly sender: Sender;

  // Receive sequence space (IRS is RCV.NXT - 1 until the handshake is done).
  /** RCV.NXT (also read by the layer for RFC 6191's check in TIME-WAIT). */
  receiveNext = 0;
  readonly window: ReceiveWindow;
  /** Out-of-order data: the shared empty one until a segment arrives out of order (an idle connection holds none). */
  assembler: Assembler = NO_OUT_OF_ORDER;
  private finReceived = false;

  // Negotiated in the handshake.
  mss = DEFAULT_MSS;
  effectiveMss = DEFAULT_MSS;
  sendShift = 0;
  sackEnabled: boolean;
  timestampsEnabled: boolean;
  private windowScalingEnabled: boolean;
  /** The most payload one large segment carries (the NIC's TSO), or 0. */
  largeSend = 0;
  /** TS.Recent (RFC 7323 §4.3), and RCV.NXT as of the last ACK sent (Last.ACK.sent). */
  tsRecent = 0;
  private lastAckSent = 0;

  readonly delayedAck: DelayedAck;
  /** In-order segments received since the last ACK. */
  private unackedSegments = 0;
  readonly keepAlive: KeepAlive | undefined;
  /** What is left in TIME-WAIT: the layer's small record (this object is let go meanwhile). */
  timeWait: TimeWaitRecord | undefined;
  /** What the connection was opened with (shared with the listener's other connections): read when needed. */
  readonly options: TcpOptions;
  /** FIN-WAIT-2's wait for the peer's FIN, made when the state is entered. */
  finWait2: StateTimer | undefined;
  /** The listener a passive connection came from (the layer's business). Fields are few: see the class note. */
  listener: unknown;
  closedWith: CloseReason | undefined;
  /** Made when someone waits for the handshake. */
  connectWaiters: ((result: ConnectResult) => void)[] | undefined;

  constructor(
    readonly host: ConnectionHost<TcpConnection>,
    local: { address: IpAddress; port: number },
    remote: { address: IpAddress; port: number },
    iss: number,
    options: TcpOptions,
    state: 'syn-sent' | 'syn-received',
  ) {
    this.localAddress = local.address;
    this.localPort = local.port;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
    this.state = state;
    const clock = host.clock;
    this.options = options;
    this.sackEnabled = options.sack ?? true;
    this.timestampsEnabled = options.timestamps ?? true;
    this.windowScalingEnabled = options.windowScaling ?? true;
    this.window = new ReceiveWindow(options.receiveBufferBytes ?? 128 * 1024, this.windowScalingEnabled, host.memory?.budget);
    this.sender = new Sender(
      this,
      iss,
      new SendBuffer(options.sendBufferBytes ?? 64 * 1024, host.memory),
      new NewReno(iss, DEFAULT_MSS),
      new RttEstimator({ minimumMs: options.minimumRtoMs ?? 200, initialMs: options.initialRtoMs ?? 1000 }),
      clock,
      host.stats,
      { noDelay: options.noDelay ?? false, maxRetransmits: options.maxRetransmits ?? 12 },
    );
    this.delayedAck = new DelayedAck(clock, options.delayedAckMs ?? 40, this, host.atBatchEnd);
    // Only set when asked for (an unset field is no property at all in an idle connection).
    if (options.keepAlive) {
      this.keepAlive = new KeepAlive(clock, options.keepAlive, {
        alive: () => this.state !== 'closed' && this.state !== 'time-wait',
        probe: () => this.sendKeepAlive(),
        expire: () => this.terminate('timeout'),
      });
    }
    this.socket = new ConnectionSocket(this, local, remote);
  }

  // ---------------------------------------------------------------- the socket's side (SocketEngine)

  /** Resolves when the connection is established, or with why it never was. */
  opened(): Promise<ConnectResult> {
    if (this.state !== 'syn-sent' && this.state !== 'syn-received') {
      return Promise.resolve(
        this.closedWith ? { ok: false, error: this.closedWith === 'normal' ? 'aborted' : this.closedWith } : { ok: true },
      );
    }
    return new Promise((resolve) => (this.connectWaiters ??= []).push(resolve));
  }

  /** Queues data; takes what fits in the send buffer. */
  write(data: Uint8Array): WriteResult {
    if (this.state === 'closed' || this.state === 'time-wait') return { ok: false, error: 'closed' };
    if (this.sender.finRequested) return { ok: false, error: 'ending' };
    const buffer = this.sender.buffer;
    const accepted = buffer.write(data);
    // Short of memory with nothing queued, no ACK will bring room: the layer wakes us when memory frees.
    if (accepted < data.length && buffer.length === 0) this.host.starved?.(this);
    if (this.state !== 'syn-sent' && this.state !== 'syn-received') this.sender.output();
    return { ok: true, accepted };
  }

  /**
   * Half-closes: a FIN follows the data already written (once the handshake is done, if it is still
   * going on). Reading goes on until the peer ends.
   */
  end(): void {
    if (this.sender.finRequested || this.state === 'closed' || this.state === 'time-wait') return;
    this.sender.finRequested = true;
    if (this.state !== 'syn-sent' && this.state !== 'syn-received') this.sender.output();
  }

  /** Ends the connection at once with a reset (nothing to do once it is over or in TIME-WAIT). */
  abort(): void {
    if (this.state === 'closed' || this.state === 'time-wait') return;
    if (this.state !== 'syn-sent') this.sendReset(this.sender.sendNext);
    this.terminate('aborted');
  }

  /** The state as the application sees it: TIME-WAIT lasts as long as the layer's record. */
  get currentState(): TcpState {
    return this.state === 'time-wait' && (!this.timeWait || this.timeWait.ended) ? 'closed' : this.state;
  }

  get bufferedBytes(): number {
    return this.sender.buffer.length;
  }

  get writableBytes(): number {
    return this.sender.finRequested || this.state === 'closed' || this.state === 'time-wait' ? 0 : this.sender.buffer.free;
  }

  get smoothedRttMs(): number | undefined {
    return this.sender.rtt.smoothedMs;
  }

  /** Held bytes were taken: tell the peer when the window opened by a segment or more (receiver SWS avoidance). */
  windowOpened(): void {
    if (!this.acceptsData()) return;
    if (this.window.available(this.socket.heldBytes) >= Math.min(this.window.capacity / 2, this.effectiveMss)) this.sendAck();
  }

  // ---------------------------------------------------------------- opening

  /** Active open: send the SYN. */
  connect(): void {
    this.sendSyn(false);
  }

  /** Passive open: a listener's SYN arrived. */
  acceptSyn(segment: IncomingSegment): void {
    this.synchronize(segment);
    this.sender.synReceived(segment.window, segment.sequence);
    this.sendSyn(true);
  }

  /** Passive open from a SYN cookie (RFC 4987): `syn` is what the cookie kept; the `ack` that brought it completes the handshake. */
  acceptCookie(syn: IncomingSegment, ack: IncomingSegment): void {
    this.synchronize(syn);
    this.sender.synReceived(0, syn.sequence);
    this.sender.synSent(); // our SYN-ACK (the cookie) went out; the ACK stops its timer at once
    this.lastAckSent = this.receiveNext;
    this.receive(ack);
  }

  /** The peer's SYN: its sequence numbers, and the options both sides support (RFC 7323, RFC 2018). */
  private synchronize(syn: IncomingSegment): void {
    this.receiveNext = seqAdd(syn.sequence, 1);
    this.window.synchronize(this.receiveNext);
    this.mss = Math.max(64, Math.min(syn.mss ?? DEFAULT_MSS, this.host.localMss));
    if (this.windowScalingEnabled && syn.windowScale !== undefined) {
      this.sendShift = Math.min(syn.windowScale, MAX_WINDOW_SHIFT);
    } else {
      this.windowScalingEnabled = false;
      this.sendShift = 0;
      this.window.shift = 0;
    }
    this.sackEnabled = this.sackEnabled && syn.sackPermitted === true;
    this.timestampsEnabled = this.timestampsEnabled && syn.timestamps !== undefined;
    if (this.timestampsEnabled) this.tsRecent = syn.timestamps!.value;
    this.effectiveMss = this.mss - (this.timestampsEnabled ? TIMESTAMP_OPTION_LENGTH : 0);
    this.largeSend = this.host.largeSendBytes(this.remoteAddress);
    this.sender.congestion.start(this.effectiveMss, this.sackEnabled);
  }

  private sendSyn(withAck: boolean): void {
    const repr: TcpRepr = {
      sourcePort: this.localPort,
      destinationPort: this.remotePort,
      sequence: this.sender.iss,
      acknowledgment: withAck ? this.receiveNext : 0,
      flags: TcpFlag.syn | (withAck ? TcpFlag.ack : 0),
      window: Math.min(this.window.capacity, 0xffff), // never scaled in a SYN
      mss: this.host.localMss,
    };
    if (this.windowScalingEnabled) repr.windowScale = this.window.shift;
    if (this.sackEnabled) repr.sackPermitted = true;
    if (this.timestampsEnabled) repr.timestamps = { value: timestampOf(this.host.clock), echo: withAck ? this.tsRecent : 0 };
    this.host.send(this, repr, 0);
    this.host.stats.segments_tx.increment();
    if (withAck) this.lastAckSent = this.receiveNext;
    this.sender.synSent();
  }

  resendSyn(): void {
    this.sendSyn(this.state === 'syn-received');
  }

  // ---------------------------------------------------------------- segment arrival (RFC 9293 §3.10.7)

  receive(segment: IncomingSegment): void {
    const state = this.state;
    // ESTABLISHED first: each string comparison is a call in QuickJS, and this runs for every segment.
    const established = state === 'established';
    if (!established && state === 'closed') return;
    this.keepAlive?.heard();
    if (!established && state === 'fin-wait-2') this.finWait2?.heard();
    if (!established && state === 'syn-sent') {
      this.receiveInSynSent(segment);
      return;
    }
    if (!established && state === 'time-wait') return; // the layer's record answers for it
    const flags = segment.flags;
    const dataLength = segment.payload.length;
    const synReceived = !established && state === 'syn-received';
    // The peer did not get our SYN-ACK and sent its SYN again: answer it again.
    if (synReceived && flags & TcpFlag.syn && !(flags & TcpFlag.ack) && seqAdd(segment.sequence, 1) === this.receiveNext) {
      this.sendSyn(true);
      return;
    }
    const length = dataLength + (flags & TcpFlag.syn ? 1 : 0) + (flags & TcpFlag.fin ? 1 : 0);

    // PAWS (RFC 7323 §5): a segment older than the last one we accepted is a stale duplicate.
    const timestamps = this.timestampsEnabled ? segment.timestamps : undefined;
    const sequence = segment.sequence;
    if (timestamps && !(flags & TcpFlag.rst) && ((timestamps.value - this.tsRecent) | 0) < 0 && !synReceived) {
      this.host.stats.duplicate_segments.increment();
      this.sendAck();
      return;
    }

    // Acceptability (RFC 9293 §3.10.7.4, first check), against the window the peer was offered.
    const receiveNext = this.receiveNext;
    const window = this.window.offered(receiveNext, this.socket.heldBytes);
    const windowEnd = (receiveNext + window) >>> 0; // seqAdd; the comparisons below spelt out (per segment)
    const acceptable =
      length === 0
        ? window === 0
          ? sequence === receiveNext
          : seqInRange(sequence, receiveNext, windowEnd)
        : window > 0 &&
          ((((sequence - receiveNext) | 0) >= 0 && ((sequence - windowEnd) | 0) < 0) ||
            seqInRange(seqAdd(sequence, length - 1), receiveNext, windowEnd));
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
    const sender = this.sender;
    const ack = segment.acknowledgment;
    if (((ack - sender.sendMax) | 0) > 0 || ((ack - ((sender.sendUnacknowledged - sender.maxSendWindow) >>> 0)) | 0) < 0) {
      this.challengeAck();
      return;
    }

    if (synReceived) {
      // RFC 9293 §3.10.7.4: the ACK of our SYN-ACK must acknowledge the SYN and no more.
      if (!seqInRange(ack, seqAdd(sender.sendUnacknowledged, 1), seqAdd(sender.sendNext, 1))) {
        this.sendReset(ack, true);
        return;
      }
      this.state = 'established';
      sender.synAcknowledged(ack, segment.window << this.sendShift, segment.sequence);
      resolveConnect(this, { ok: true });
      this.host.established(this);
      this.keepAlive?.start();
    }

    // RFC 7323 §4.3: TS.Recent follows segments that reach no further than what we acknowledged last.
    if (timestamps && ((sequence - this.lastAckSent) | 0) <= 0) this.tsRecent = timestamps.value;

    sender.processAck(segment);
    if (this.socket.wantsDrain) this.drainIfRoom();
    if (sender.finSent && ack === sender.sendMax) finAcknowledged(this);
    if ((this.state as TcpState) === 'closed') return; // our FIN's ACK in LAST-ACK ended it

    if (dataLength && this.acceptsData()) this.processData(segment);
    else if (dataLength) this.sendAck(); // data after we stopped reading: acknowledge, drop

    if (flags & TcpFlag.fin) this.processFin(segment);

    sender.output();
  }

  private receiveInSynSent(segment: IncomingSegment): void {
    const flags = segment.flags;
    const sender = this.sender;
    // RFC 9293 §3.10.7.3: an ACK must acknowledge our SYN (and nothing beyond it), else a reset.
    if (flags & TcpFlag.ack && !seqInRange(segment.acknowledgment, seqAdd(sender.iss, 1), seqAdd(sender.sendMax, 1))) {
      if (!(flags & TcpFlag.rst)) this.sendReset(segment.acknowledgment, true);
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
    this.synchronize(segment);
    if (flags & TcpFlag.ack) {
      sender.synAcknowledged(segment.acknowledgment, segment.window, segment.sequence); // a SYN's window is never scaled
      if (this.timestampsEnabled) sender.sampleRtt(segment, segment.acknowledgment);
      this.state = 'established';
      this.sendAck();
      resolveConnect(this, { ok: true });
      this.keepAlive?.start();
      sender.output();
      return;
    }
    // Simultaneous open (RFC 9293 §3.5, figure 8): answer with SYN-ACK from SYN-RECEIVED.
    this.state = 'syn-received';
    sender.synReceived(segment.window, segment.sequence);
    this.sendSyn(true);
  }

  /** In TIME-WAIT a retransmitted FIN gets its ACK again and restarts the timer (RFC 9293 §3.10.7.4). */
  /**
   * Tells a writer waiting for room that there is some (a quarter of the buffer, or 16 KiB). With none
   * and nothing left to acknowledge (the memory budget is short), the layer wakes it when memory frees.
   */
  drainIfRoom(): void {
    const buffer = this.sender.buffer;
    const wanted = this.host.memory?.budget.underPressure ? 2048 : Math.min(buffer.capacity / 4, 16384);
    if (buffer.free > 0 && buffer.free >= wanted) this.socket.drain();
    else if (buffer.length === 0 && this.state !== 'closed' && this.state !== 'time-wait') this.host.starved?.(this);
  }

  finWasSent(): void {
    if (this.state === 'established') this.state = 'fin-wait-1';
    else if (this.state === 'close-wait') this.state = 'last-ack';
  }

  // ---------------------------------------------------------------- receiving data

  private acceptsData(): boolean {
    return this.state === 'established' || this.state === 'fin-wait-1' || this.state === 'fin-wait-2';
  }

  private processData(segment: IncomingSegment): void {
    let sequence = segment.sequence;
    let data = segment.payload;
    const receiveNext = this.receiveNext;
    const socket = this.socket;
    // Trim what we already have, and what lies beyond the window.
    if (seqLt(sequence, receiveNext)) {
      data = data.subarray((receiveNext - sequence) | 0);
      sequence = receiveNext;
    }
    const room = this.window.offered(receiveNext, socket.heldBytes) - ((sequence - receiveNext) | 0);
    let length = data.length;
    if (length > room) length = (data = data.subarray(0, Math.max(0, room))).length;
    if (!length) {
      this.sendAck();
      return;
    }
    // Under memory pressure a connection keeps no more than the budget's allowance (at its limit, nothing):
    // what it cannot keep is dropped, and the peer sends it again (its offered window stays as it was).
    const keepable = this.host.memory?.budget.receiveAllowance ?? Number.POSITIVE_INFINITY;
    if (sequence === receiveNext) {
      if (socket.heldBytes + length > keepable && socket.holding) {
        this.droppedForMemory();
        return;
      }
      this.receiveNext = seqAdd(receiveNext, length);
      socket.deliver(new Uint8Array(data)); // a copy without slice()'s species lookups
      const filledHole = this.assembler.count !== 0;
      if (filledHole) {
        const charged = this.assembler.charged;
        for (let fresh = this.assembler.take(this.receiveNext); fresh; fresh = this.assembler.take(this.receiveNext)) {
          this.receiveNext = seqAdd(this.receiveNext, fresh.length);
          this.socket.deliver(fresh);
        }
        this.host.memory?.adjust(this.assembler.charged - charged);
      }
      // An answer the application wrote while taking the data carried the ACK: nothing is owed.
      if (this.lastAckSent === this.receiveNext) return;
      // A segment the NIC coalesced stands for several: acknowledged at once, as two would be.
      const mss = this.effectiveMss;
      const unacked = (this.unackedSegments += length > mss ? 2 : 1);
      // Acknowledge at once (or at the batch's end) every second full segment, when a hole filled, and after
      // a SACK episode; a small segment on a noDelay connection (a request) soon, so the answer carries it.
      if (filledHole || unacked >= 2) this.delayedAck.now(unacked);
      else if (length < mss && this.sender.noDelay) this.delayedAck.soon();
      else this.delayedAck.schedule();
      return;
    }
    // Out of order: keep it (copied into the range it joins) and tell the sender at once (duplicate ACK
    // + SACK); what the bounded queue cannot take goes unanswered, as in Linux (tcp_data_queue_ofo).
    this.host.stats.out_of_order.increment();
    if (this.assembler.bytes + data.length > keepable) {
      this.droppedForMemory();
      return;
    }
    // Out-of-order data lies within the window; the bound has room for each range's overhead too.
    if (this.assembler === NO_OUT_OF_ORDER) this.assembler = new Assembler(2 * this.window.capacity, this.host.stats.out_of_order_dropped);
    const charged = this.assembler.charged;
    const kept = this.assembler.insert(sequence, data);
    this.host.memory?.adjust(this.assembler.charged - charged);
    if (kept !== 'dropped') this.sendAck();
  }

  private droppedForMemory(): void {
    this.host.stats.rx_dropped_memory?.increment();
    this.sendAck();
  }

  /** The held data's charge changed by `delta` (charged to the budget while the connection lasts). */
  heldChanged(delta: number): void {
    if (this.state !== 'closed' && this.state !== 'time-wait') this.host.memory?.adjust(delta);
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
        if (this.sender.finSent && this.sender.sendUnacknowledged === this.sender.sendMax) enterTimeWait(this);
        else this.state = 'closing';
        break;
      case 'fin-wait-2':
        enterTimeWait(this);
        break;
      default:
        break;
    }
    this.socket.peerEnded();
  }

  // ---------------------------------------------------------------- segments out

  /** The payload that fits one segment now: the effective MSS less the SACK blocks it will carry (so no IP fragments). */
  segmentLimit(): number {
    if (!this.sackEnabled || this.assembler.count === 0) return this.effectiveMss;
    const blocks = this.assembler.sackBlocks(this.sackBlockLimit()).length;
    return this.effectiveMss - (blocks ? 4 + 8 * blocks : 0);
  }

  /** SACK blocks that fit one segment beside the other options. */
  private sackBlockLimit(): number {
    return this.timestampsEnabled ? MAX_SACK_BLOCKS_WITH_TIMESTAMPS : MAX_SACK_BLOCKS;
  }

  /** The header of a segment going out now: our ACK, window, timestamps and SACK blocks. */
  private segmentRepr(sequence: number, flags: number): TcpRepr {
    const window = this.window.advertise(this.receiveNext, this.socket.heldBytes);
    const blocks = this.sackEnabled && this.assembler.count !== 0 ? this.assembler.sackBlocks(this.sackBlockLimit()) : undefined;
    const timestamp = this.timestampsEnabled ? this.host.clock.now() >>> 0 || 1 : 0; // timestampOf, inline (per segment)
    return outgoingRepr(this.localPort, this.remotePort, sequence, this.receiveNext, flags, window, timestamp, this.tsRecent, blocks);
  }

  sendSegment(sequence: number, flags: number, payloadLength: number, payload: PayloadCopier | undefined, segmentSize = 0): void {
    const host = this.host;
    host.send(this, this.segmentRepr(sequence, flags), payloadLength, payload, segmentSize);
    // Segments on the wire: a large one counts as the segments the NIC cuts it into.
    const counter = host.stats.segments_tx;
    if (segmentSize > 0 && payloadLength > segmentSize) counter.increment(Math.ceil(payloadLength / segmentSize));
    else counter.increment();
    this.afterAckSent();
  }

  sendAck(): void {
    if (this.state === 'closed' || this.state === 'syn-sent') return;
    // SND.MAX, not the SND.NXT a timeout moved back (a peer holding data up to SND.MAX drops an older
    // sequence number unread), but no further than the peer's window (see Sender.ackSequence).
    this.sendSegment(this.sender.ackSequence, TcpFlag.ack, 0, undefined);
  }

  private afterAckSent(): void {
    this.lastAckSent = this.receiveNext;
    this.unackedSegments = 0;
    this.delayedAck.owed = false;
  }

  /** RFC 5961 §7: challenge ACKs within the layer's rate limit. */
  private challengeAck(): void {
    if (!this.host.allowChallengeAck()) return;
    this.host.stats.challenge_acks.increment();
    this.sendAck();
  }

  /** A keepalive probe: one sequence number below SND.UNA, no data; the peer answers with an ACK. */
  private sendKeepAlive(): void {
    this.host.stats.keepalives.increment();
    this.host.send(this, this.segmentRepr(seqAdd(this.sender.sendUnacknowledged, -1), TcpFlag.ack), 0);
  }

  // ---------------------------------------------------------------- ending (closing.ts)

  giveUp(): void {
    terminate(this, 'timeout');
  }

  /** Ends the connection for good: timers off, the socket told, the layer forgets it. */
  terminate(reason: CloseReason): void {
    terminate(this, reason);
  }

  /** A reset at `sequence`; one `answering` a segment goes within the layer's limit on resets. */
  sendReset(sequence: number, answering = false): void {
    if (answering && !this.host.allowReset()) return;
    const { localPort, remotePort } = this;
    this.host.send(
      this,
      { sourcePort: localPort, destinationPort: remotePort, sequence, acknowledgment: 0, flags: TcpFlag.rst, window: 0 },
      0,
    );
    this.host.stats.resets_tx.increment();
  }
}
