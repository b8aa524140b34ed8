/**
 * The TCP socket services and protocols (the HTTP server, DNS over TCP, echo) code against: one
 * connection's byte streams both ways, with backpressure both ways. `inet.tcp.listen` and
 * `inet.tcp.connect` hand these out; the engine behind them (segment arrival, timers, the state
 * machine) is not reachable through it.
 *
 * The contract:
 * - Writing takes what fits: `write` answers how many bytes the send buffer accepted (`writableBytes`
 *   says how many it would take now); after a short write `onDrain` listeners run once when room is back.
 *   `writeAll` waits for room as needed. Bytes stay in the buffer (`bufferedBytes`) until the peer
 *   acknowledges them. `end()` sends a FIN after the bytes written (a half-close: reading goes on).
 * - Reading: every chunk goes, in order, to every data consumer attached when it arrives: each `onData`
 *   listener and each running async iterator. A chunk that arrives while there is no consumer, or while
 *   the socket is paused, is held (never dropped) and delivered when a consumer comes or `resume()` is
 *   called; held bytes close the receive window, so a slow reader slows the peer down. An async iterator
 *   holds the socket the same way while its reader has not taken the chunk it has (backpressure).
 * - `onEnd` listeners run once, after the last chunk, when the peer has ended its side; `onClose`
 *   listeners run once when the connection is over, with why. A listener added after the fact runs at
 *   once. Every `onXxx` answers a function that removes the listener.
 * - Nothing here throws on what the network does: results are unions.
 */
import type { IpAddress } from '../../wire/address.js';

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

/**
 * Why a connection ended: 'normal' (both sides closed), 'reset' (the peer reset it), 'refused' (reset
 * during the handshake), 'timeout' (retransmissions or keepalives unanswered), 'aborted' (`abort()`, or
 * the interface lost its address).
 */
export type CloseReason = 'normal' | 'reset' | 'refused' | 'timeout' | 'aborted';

/** 'closed': the connection is over; 'ending': `end()` was called, no more data may follow. */
export type WriteResult = { ok: true; accepted: number } | { ok: false; error: 'closed' | 'ending' };

export type ConnectResult = { ok: true } | { ok: false; error: 'refused' | 'timeout' | 'reset' | 'aborted' };

export interface TcpSocket extends AsyncIterable<Uint8Array> {
  readonly localAddress: IpAddress;
  readonly localPort: number;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  /** Where the connection is in RFC 9293's state machine. */
  readonly state: TcpState;
  /** Bytes written and not yet acknowledged by the peer. */
  readonly bufferedBytes: number;
  /** Bytes a `write` would take now (0 once the socket is ending or closed). */
  readonly writableBytes: number;
  /** Whether `pause()` is in force. */
  readonly isPaused: boolean;
  /** The smoothed round-trip time (RFC 6298), once measured. */
  readonly smoothedRttMs: number | undefined;

  /** Resolves when the connection is established, or with why it never was. */
  opened(): Promise<ConnectResult>;
  /**
   * Queues what fits of `data` in the send buffer and answers how much that was (see onDrain). The
   * buffer keeps a view of `data`, not a copy: do not change those bytes until the peer has acknowledged
   * them (`bufferedBytes` falls), as with Node's `socket.write`.
   */
  write(data: Uint8Array): WriteResult;
  /** Writes all of `data`, waiting for room as needed; 'closed' if the connection ends first. */
  writeAll(data: Uint8Array): Promise<WriteResult>;
  /** Half-close: a FIN follows the data already written; reading goes on until the peer ends. */
  end(): void;
  /** Ends both directions gracefully: `end()`, and what arrives while nobody reads is discarded. */
  close(): void;
  /** Ends the connection at once with a reset. */
  abort(): void;

  /**
   * Adds a data consumer: chunks in order, as they arrive. A chunk is the consumers' to keep (the stack
   * never reuses it), and the same object goes to every consumer: copy it before changing it.
   */
  onData(listener: (data: Uint8Array) => void): () => void;
  /** The peer finished sending (it may still read). Runs once, after the last chunk. */
  onEnd(listener: () => void): () => void;
  /** The connection is over, and why. Runs once. */
  onClose(listener: (reason: CloseReason) => void): () => void;
  /** Runs once, the next time the send buffer has room after a write took less than it was given. */
  onDrain(listener: () => void): () => void;
  /** Stops delivering data: what arrives is held and the receive window closes as it fills. */
  pause(): void;
  /** Delivers what was held and goes on delivering. */
  resume(): void;
  /**
   * Chunks as they arrive, until the peer ends or the connection closes, with backpressure: while the
   * reader has not taken a chunk, further data is held and the window closes. A consumer beside any
   * `onData` listeners: each sees every chunk.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
}

/**
 * A snapshot of one connection's variables (RFC 9293 names in words), for diagnostics and tests:
 * `inet.tcp.inspect(socket)` and `inet.tcp.connections()`. Sequence numbers are unsigned 32-bit.
 */
export interface TcpDiagnostics {
  localAddress: IpAddress;
  localPort: number;
  remoteAddress: IpAddress;
  remotePort: number;
  state: TcpState;
  /** SND.UNA, SND.NXT and the highest sequence number sent. */
  sendUnacknowledged: number;
  sendNext: number;
  sendMax: number;
  /** The peer's window (scaled), SND.WND. */
  sendWindow: number;
  congestionWindow: number;
  slowStartThreshold: number;
  /** In NewReno fast recovery. */
  inRecovery: boolean;
  /** RCV.NXT, and the window we can offer from it. */
  receiveNext: number;
  receiveWindow: number;
  mss: number;
  /** Window scale shifts: the peer's and ours. */
  sendShift: number;
  receiveShift: number;
  sack: boolean;
  timestamps: boolean;
  rtoMs: number;
  smoothedRttMs: number | undefined;
  /** Ranges held out of order. */
  outOfOrderSegments: number;
  /** Written and unacknowledged; received and not yet taken by the application. */
  bufferedBytes: number;
  heldBytes: number;
  /** Payload bytes received in order, and sent and acknowledged by the peer (each byte once, however often it was sent). */
  bytesIn: number;
  bytesOut: number;
}
