/**
 * What a TCP connection is configured with and what it needs from its layer: the options services pass
 * to `listen` and `connect`, the segment the layer hands in (the parsed repr itself, not a copy), and the
 * host interface through which the connection sends, is released and counts.
 */
import type { NetClock } from '../../clock.js';
import type { IpAddress } from '../../wire/address.js';
import type { MemoryAccount } from '../../memory.js';
import type { TcpState } from './tcp-socket.js';
import type { TimeWaitRecord } from './time-wait.js';
import type { TcpRepr, TcpSegment } from '../../wire/tcp.js';

/** RFC 9293 §3.7.1: the MSS to assume when the peer's SYN names none. */
export const DEFAULT_MSS = 536;
/** The timestamp option with its two NOPs takes 12 bytes of every segment. */
export const TIMESTAMP_OPTION_LENGTH = 12;
/** SACK blocks that fit one segment beside the timestamp option (4 without it). */
export const MAX_SACK_BLOCKS_WITH_TIMESTAMPS = 3;
export const MAX_SACK_BLOCKS = 4;

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
  /**
   * How long FIN-WAIT-2 waits in silence for the peer's FIN after ours was acknowledged, before the
   * connection is reset and ends with 'timeout' (default 60 s, Linux's tcp_fin_timeout). Every segment
   * from the peer starts the wait again, so a peer still sending keeps it.
   */
  finWait2TimeoutMs?: number;
  /** Retransmissions of one segment before the connection is given up (default 12; SYNs 6). */
  maxRetransmits?: number;
  minimumRtoMs?: number;
  initialRtoMs?: number;
  sack?: boolean;
  timestamps?: boolean;
  windowScaling?: boolean;
}

/** A segment as the connection sees it: what `parseTcp` returned, passed through as it is. */
export type IncomingSegment = TcpSegment;

/** A statistic the connection counts. */
export interface Counter {
  increment(by?: number): void;
}

export interface ConnectionStats {
  segments_tx: Counter;
  retransmits: Counter;
  fast_retransmits: Counter;
  timeouts: Counter;
  resets_rx: Counter;
  resets_tx: Counter;
  challenge_acks: Counter;
  out_of_order: Counter;
  out_of_order_dropped: Counter;
  duplicate_segments: Counter;
  zero_window_probes: Counter;
  tail_loss_probes: Counter;
  keepalives: Counter;
  /** In-window data dropped because the memory budget was at its limit (the peer sends it again). */
  rx_dropped_memory?: Counter;
}

/** Copies `length` bytes of payload into the frame being built, at `offset`. */
export type PayloadCopier = (buffer: Uint8Array, offset: number) => void;

/** What the connection needs from the TCP layer (`C`: the connection type, so the layer knows which one speaks). */
export interface ConnectionHost<C> {
  clock: NetClock;
  /**
   * Sends a segment with `payloadLength` bytes of payload that `payload` copies in. With `segmentSize`
   * (only when `largeSendBytes` allowed it) a payload longer than that goes out as one large segment for
   * the NIC to cut into segments of `segmentSize` payload bytes, each with this header (TSO).
   */
  send(connection: C, repr: TcpRepr, payloadLength: number, payload?: PayloadCopier, segmentSize?: number): boolean;
  /** The most payload one large segment to `remote` may carry (the NIC's TSO); 0 when the NIC cannot cut segments. */
  largeSendBytes(remote: IpAddress): number;
  /** The connection is gone: forget it. */
  release(connection: C): void;
  /**
   * The connection entered TIME-WAIT (its timers stopped): keep a record of it instead (`timeWaitOf`),
   * and forget the connection itself. Undefined when no record could be kept.
   */
  timeWait(connection: C): TimeWaitRecord | undefined;
  /** A passive connection reached ESTABLISHED: hand it to its listener. */
  established(connection: C): void;
  /** Whether another challenge ACK may go out now (RFC 5961 rate limit). */
  allowChallengeAck(): boolean;
  /** Where the connection's buffers are charged (send queue, data held for the application, out of order). */
  readonly memory?: MemoryAccount;
  /** A writer waits for room the memory budget has not got: call `drainIfRoom` when memory frees. */
  starved?(connection: C): void;
  /** Whether a reset in answer to a segment may go out now (the layer's limit on resets). */
  allowReset(): boolean;
  /**
   * When the NIC hands frames in batches: keeps `flush` to call at the end of this batch and returns true
   * (an ACK then covers the batch); false or absent: no batches.
   */
  atBatchEnd?(flush: () => void): boolean;
  /** The largest segment payload the route allows (MTU - 40). */
  readonly localMss: number;
  stats: ConnectionStats;
}

/** What the send side needs of its connection: the negotiated figures and the way out. */
export interface SenderHost {
  readonly state: TcpState;
  /** Payload bytes per full segment (the MSS less the timestamp option). */
  readonly effectiveMss: number;
  readonly sackEnabled: boolean;
  readonly timestampsEnabled: boolean;
  /** The peer's window scale shift. */
  readonly sendShift: number;
  /** The payload one segment carries now: `effectiveMss` less the SACK blocks it will carry. */
  segmentLimit(): number;
  /** The most payload one large segment carries when the NIC cuts them (TSO); 0 without. */
  readonly largeSend: number;
  /**
   * Sends a segment at `sequence` with `flags`; the connection adds ACK, window and options. A payload
   * longer than `segmentSize` goes to the NIC as one large segment to cut into `segmentSize`-byte ones.
   */
  sendSegment(sequence: number, flags: number, payloadLength: number, payload: PayloadCopier | undefined, segmentSize?: number): void;
  sendAck(): void;
  /** The FIN went out for the first time (the state moves on). */
  finWasSent(): void;
  /** The retransmission timer expired in SYN-SENT or SYN-RECEIVED. */
  resendSyn(): void;
  /** Too many retransmissions: the connection is over. */
  giveUp(): void;
}
