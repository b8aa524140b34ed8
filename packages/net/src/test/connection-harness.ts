/**
 * One TcpConnection alone, for unit tests of the rules it enforces: its host records every segment it
 * sends, the clock is virtual, and the test plays the peer with crafted segments. Not part of the
 * `@uos/net/test` exports: the engine is internal to the package.
 */
import { VirtualClock } from '../clock.js';
import { TcpConnection } from '../socket/tcp/connection.js';
import { seqGt } from '../socket/tcp/sequence.js';
import { type TimeWaitRecord, TimeWaitTable, timeWaitOf } from '../socket/tcp/time-wait.js';
import type { ConnectionHost, ConnectionStats, TcpOptions } from '../socket/tcp/options.js';
import { type IpAddress, ipv4Address } from '../wire/address.js';
import { TcpFlag, type TcpRepr, type TcpSegment } from '../wire/tcp.js';

/** Our initial sequence number, and the peer's. */
export const ISS = 1000;
export const PEER_ISS = 500_000;
export const LOCAL: { address: IpAddress; port: number } = { address: ipv4Address('10.0.0.1'), port: 40000 };
export const REMOTE: { address: IpAddress; port: number } = { address: ipv4Address('10.0.0.2'), port: 80 };

export interface SentSegment extends TcpRepr {
  payload: Uint8Array;
  /** The segment size the NIC was to cut a large segment into (TSO), when it was one. */
  segmentSize?: number;
}

export interface Counting {
  value: number;
  increment(by?: number): void;
}

export type HarnessStats = { [K in keyof ConnectionStats]: Counting };

export interface Harness {
  clock: VirtualClock;
  connection: TcpConnection;
  /** Every segment the connection sent, in order. */
  sent: SentSegment[];
  stats: HarnessStats;
  /** How often the connection asked to be released (TIME-WAIT included), and whether it reported being established. */
  released: number;
  /** The record TIME-WAIT left, in the harness's own table (segments go to it once it exists). */
  timeWait: TimeWaitRecord | undefined;
  established: number;
  /** Whether the layer lets another challenge ACK out (RFC 5961 §7). */
  allowChallengeAck: boolean;
  /**
   * Hands the connection a segment from the peer: ACK flag, `peerNext` as its sequence number and a
   * window of 65535 unless `fields` say otherwise. `peerNext` then follows RCV.NXT if it moved past it
   * (the segment was taken in order).
   */
  receive(fields: Partial<TcpSegment>, payload?: Uint8Array): void;
  /** The segments sent since the last call. */
  take(): SentSegment[];
  /** The peer's next sequence number (RCV.NXT once in sync). */
  peerNext: number;
  /** With `batches`: ends the batch of received frames (what waits for it runs). */
  endBatch(): void;
}

function counters(): HarnessStats {
  const counter = (): Counting => ({
    value: 0,
    increment(by = 1) {
      this.value += by;
    },
  });
  return {
    segments_tx: counter(),
    retransmits: counter(),
    fast_retransmits: counter(),
    timeouts: counter(),
    resets_rx: counter(),
    resets_tx: counter(),
    challenge_acks: counter(),
    out_of_order: counter(),
    out_of_order_dropped: counter(),
    duplicate_segments: counter(),
    zero_window_probes: counter(),
    tail_loss_probes: counter(),
    keepalives: counter(),
  };
}

/** A connection in SYN-SENT (`connect()` not yet called) or SYN-RECEIVED, with `options`. */
export function harness(
  options: TcpOptions & { state?: 'syn-sent' | 'syn-received'; localMss?: number; largeSendBytes?: number; batches?: boolean } = {},
): Harness {
  const clock = new VirtualClock();
  const sent: SentSegment[] = [];
  let taken = 0;
  const batchEnd: (() => void)[] = [];
  const h = {
    clock,
    sent,
    stats: counters(),
    released: 0,
    established: 0,
    allowChallengeAck: true,
    peerNext: PEER_ISS + 1,
  } as Harness;
  const timeWaitTable = new TimeWaitTable(
    {
      clock,
      send: (_record, repr) => {
        sent.push({ ...repr, payload: new Uint8Array(0) });
      },
    },
    16,
  );
  const host: ConnectionHost<TcpConnection> = {
    clock,
    localMss: options.localMss ?? 1460,
    stats: h.stats,
    send(_connection, repr, payloadLength, payload, segmentSize) {
      const bytes = new Uint8Array(payloadLength);
      payload?.(bytes, 0);
      const copy: SentSegment = { ...repr, payload: bytes };
      if (repr.timestamps) copy.timestamps = { ...repr.timestamps };
      if (repr.sackBlocks) copy.sackBlocks = repr.sackBlocks.map((b) => [b[0], b[1]]);
      if (segmentSize && payloadLength > segmentSize) copy.segmentSize = segmentSize;
      sent.push(copy);
      return true;
    },
    largeSendBytes: () => options.largeSendBytes ?? 0,
    atBatchEnd: options.batches
      ? (flush) => {
          batchEnd.push(flush);
          return true;
        }
      : undefined,
    release: () => {
      h.released++;
    },
    timeWait: (connection) => {
      h.released++;
      h.timeWait = timeWaitTable.add(timeWaitOf(connection));
      return h.timeWait;
    },
    established: () => {
      h.established++;
    },
    allowChallengeAck: () => h.allowChallengeAck,
    allowReset: () => true,
  };
  const { state, localMss: _, largeSendBytes: __, batches: ___, ...tcp } = options;
  h.endBatch = () => {
    for (const flush of batchEnd.splice(0)) flush();
  };
  h.connection = new TcpConnection(host, LOCAL, REMOTE, ISS, tcp, state ?? 'syn-sent');
  h.receive = (fields, payload = new Uint8Array(0)) => {
    const segment: TcpSegment = {
      sourcePort: REMOTE.port,
      destinationPort: LOCAL.port,
      sequence: h.peerNext,
      acknowledgment: 0,
      flags: TcpFlag.ack,
      window: 65535,
      ...fields,
      payload,
    };
    if (h.timeWait && !h.timeWait.ended) timeWaitTable.receive(h.timeWait, segment);
    else h.connection.receive(segment);
    if (seqGt(h.connection.receiveNext, h.peerNext)) h.peerNext = h.connection.receiveNext;
  };
  h.take = () => sent.slice(taken, (taken = sent.length));
  return h;
}

/** What the peer's SYN-ACK (or SYN) carries by default: MSS 1460 and nothing else. */
export interface PeerSyn {
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  timestamps?: { value: number; echo: number };
  window?: number;
}

/**
 * An active open completed: connect() sent the SYN, the peer's SYN-ACK (with `peer`'s options) arrived,
 * our ACK went out. The segments of the handshake are taken.
 */
export function established(
  options: TcpOptions & { localMss?: number; largeSendBytes?: number; batches?: boolean } = {},
  peer: PeerSyn = {},
): Harness {
  const h = harness(options);
  h.connection.connect();
  h.connection.receive({
    sourcePort: REMOTE.port,
    destinationPort: LOCAL.port,
    sequence: PEER_ISS,
    acknowledgment: ISS + 1,
    flags: TcpFlag.syn | TcpFlag.ack,
    window: peer.window ?? 65535,
    mss: peer.mss ?? 1460,
    ...(peer.windowScale !== undefined ? { windowScale: peer.windowScale } : {}),
    ...(peer.sackPermitted ? { sackPermitted: true } : {}),
    ...(peer.timestamps ? { timestamps: peer.timestamps } : {}),
    payload: new Uint8Array(0),
  });
  if (h.connection.state !== 'established') throw new Error(`handshake left ${h.connection.state}`);
  h.take();
  return h;
}

/** The last of `items`. */
export function last<T>(items: T[]): T | undefined {
  return items[items.length - 1];
}

/** `length` bytes counting up from `start` (mod 256). */
export function bytes(length: number, start = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);
}

/** The flags of a segment, as letters (S, A, F, R, P) for readable expectations. */
export function flagsOf(segment: { flags: number }): string {
  const f = segment.flags;
  return `${f & TcpFlag.syn ? 'S' : ''}${f & TcpFlag.fin ? 'F' : ''}${f & TcpFlag.rst ? 'R' : ''}${f & TcpFlag.psh ? 'P' : ''}${f & TcpFlag.ack ? 'A' : ''}`;
}
