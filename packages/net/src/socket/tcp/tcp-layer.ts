import type { NetClock, RandomSource } from '../../clock.js';
import type { IpDatagram, IpLayer, IpSendOptions } from '../../iface/ip-layer.js';
import { IPV4_ANY, type IpAddress, ipv4Address } from '../../wire/address.js';
import { IpProtocolValue } from '../../wire/ipv4.js';
import { type LayerStats, type StatScope, layerStats } from '../../stat-names.js';
import { TcpFlag, type TcpRepr, emitTcp, emptyTcpSegment, readTcpSegment, tcpHeaderLength } from '../../wire/tcp.js';
import { TcpConnection } from './connection.js';
import { ConnectionTable } from './connection-table.js';
import { diagnose } from './diagnostics.js';
import type { ConnectionHost, IncomingSegment, PayloadCopier, TcpOptions } from './options.js';
import { ConnectionSocket } from './socket.js';
import type { TcpDiagnostics, TcpSocket } from './tcp-socket.js';
import { InitialSequence } from './initial-sequence.js';
import { seqAdd, seqGt } from './sequence.js';
import { RateLimiter } from '../../rate-limit.js';
import { windowShiftFor } from './receive-window.js';
import { timestampOf } from './sender.js';
import { SynCookies, cookieHandshake } from './syn-cookies.js';

export interface ListenOptions extends TcpOptions {
  /**
   * Connections in SYN-RECEIVED at once (default 128). Beyond it SYNs are answered with SYN cookies
   * (RFC 4987) and nothing is kept until the handshake completes: a SYN flood neither grows memory nor
   * locks the port out. 0 answers every SYN with a cookie.
   */
  backlog?: number;
  /** Answer SYNs with cookies when the backlog is full (default true); false drops them instead. */
  synCookies?: boolean;
}

export interface ConnectOptions extends TcpOptions {
  /** The local port; a random free ephemeral port (49152-65535) when absent. */
  localPort?: number;
}

export type ListenResult = { ok: true; listener: TcpListener } | { ok: false; error: 'port-in-use' | 'invalid-port' };
export type ConnectStart =
  | { ok: true; connection: TcpSocket }
  | { ok: false; error: 'no-route' | 'no-free-port' | 'port-in-use' | 'unconfigured' | 'invalid-port' };

export interface TcpListener {
  readonly port: number;
  /** Connections still in the handshake. */
  readonly halfOpen: number;
  close(): void;
}

interface Listening {
  port: number;
  onConnection: (socket: TcpSocket) => void;
  options: ListenOptions;
  backlog: number;
  halfOpen: number;
  /** When this listener last answered a SYN with a cookie (ACKs are checked for cookies only for a while after). */
  cookieSentAt: number;
}

const DEFAULT_RECEIVE_BUFFER = 128 * 1024;
const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;
const CHALLENGE_ACKS_PER_SECOND = 100;
/** Resets for segments that belong to nothing: at most this many at once and per second (FreeBSD allows 200/s). */
const RESETS_PER_SECOND = 100;
/** ACKs are taken for cookies this long after the last cookie went out (Linux: while its queue overflowed recently). */
const COOKIE_RECENT_MS = 3 * 60_000;

/**
 * TCP for one interface, over the IP layer's interface (whatever its version): connections by their
 * endpoints in a `ConnectionTable`, listeners by port (on every address of the interface) with a bounded
 * half-open queue, active opens from random ephemeral ports, resets for segments that belong to
 * nothing (RFC 9293 §3.10.7.1), RFC 6528 initial sequence numbers, and an RFC 5961 challenge-ACK limit.
 */
export class TcpLayer {
  readonly stats: LayerStats<'tcp'>;
  private readonly table = new ConnectionTable<TcpConnection>();
  private readonly passive = new Map<TcpConnection, Listening>();
  private readonly listeners = new Map<number, Listening>();
  private readonly initialSequence: InitialSequence;
  private readonly challengeAcks: RateLimiter;
  private readonly resets: RateLimiter;
  private readonly cookies: SynCookies;
  private readonly host: ConnectionHost<TcpConnection>;
  /** What waits for the end of the batch of received frames (ACKs covering the batch). */
  private readonly batchEndWork: (() => void)[] = [];
  /** The segment being received, refilled for each (connections use it during the call only). */
  private readonly incoming = emptyTcpSegment();
  private readonly incomingTimestamps = { value: 0, echo: 0 };

  constructor(
    private readonly ip: IpLayer,
    private readonly clock: NetClock,
    private readonly random: RandomSource,
    scope: StatScope,
  ) {
    this.stats = layerStats(scope, 'tcp');
    this.initialSequence = new InitialSequence(random, () => clock.now());
    this.challengeAcks = new RateLimiter(clock, CHALLENGE_ACKS_PER_SECOND, CHALLENGE_ACKS_PER_SECOND);
    this.resets = new RateLimiter(clock, RESETS_PER_SECOND, RESETS_PER_SECOND);
    this.cookies = new SynCookies(random, clock);
    this.host = {
      clock,
      send: (connection, repr, length, payload, segmentSize) =>
        this.sendSegment(connection.localAddress, connection.remoteAddress, repr, length, payload, segmentSize),
      largeSendBytes: (remote) => this.largeSendBytes(remote),
      atBatchEnd: ip.batchesEnd
        ? (flush) => {
            this.batchEndWork.push(flush);
            return true;
          }
        : undefined,
      release: (connection) => this.release(connection),
      established: (connection) => this.established(connection),
      allowChallengeAck: () => this.allowChallengeAck(),
      allowReset: () => this.allowReset(),
      get localMss() {
        return ip.maxPayload - 20;
      },
      stats: this.stats,
    };
    // IP -> TCP
    ip.on(IpProtocolValue.tcp, (datagram) => this.receive(datagram));
    if (ip.batchesEnd) ip.onBatchEnd(() => this.endBatch());
  }

  /** The ACKs held back for the end of the batch of received frames, sent now. */
  private endBatch(): void {
    const work = this.batchEndWork;
    for (let i = 0; i < work.length; i++) work[i]!();
    work.length = 0;
  }

  /** Accepts connections on `port`; `onConnection` gets each once its handshake completed. */
  listen(port: number, onConnection: (socket: TcpSocket) => void, options: ListenOptions = {}): ListenResult {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, error: 'invalid-port' };
    if (this.listeners.has(port)) return { ok: false, error: 'port-in-use' };
    const listening: Listening = { port, onConnection, options, backlog: options.backlog ?? 128, halfOpen: 0, cookieSentAt: -Infinity };
    this.listeners.set(port, listening);
    return {
      ok: true,
      listener: {
        port,
        get halfOpen() {
          return listening.halfOpen;
        },
        close: () => {
          if (this.listeners.get(port) === listening) this.listeners.delete(port);
        },
      },
    };
  }

  /**
   * Opens a connection; `connection.opened()` says whether the handshake succeeded. A destination given
   * as text must be a dotted-quad address (else a NetError: resolve names with DnsResolver first).
   */
  connect(destination: IpAddress | string, port: number, options: ConnectOptions = {}): ConnectStart {
    const address = typeof destination === 'string' ? ipv4Address(destination) : destination;
    const validPort = (p: number): boolean => Number.isInteger(p) && p >= 1 && p <= 65535;
    if (!validPort(port) || (options.localPort !== undefined && !validPort(options.localPort))) return { ok: false, error: 'invalid-port' };
    if (!this.ip.configured) return { ok: false, error: 'unconfigured' };
    const source = this.ip.sourceFor(address);
    if (source === undefined) return { ok: false, error: 'no-route' };
    let localPort = 0;
    if (options.localPort !== undefined) {
      if (this.table.holds(options.localPort, address, port)) return { ok: false, error: 'port-in-use' };
      localPort = options.localPort;
    } else {
      const start = this.random.uint32() % EPHEMERAL_COUNT;
      for (let i = 0; i < EPHEMERAL_COUNT && !localPort; i++) {
        const candidate = EPHEMERAL_FIRST + ((start + i) % EPHEMERAL_COUNT);
        if (!this.listeners.has(candidate) && !this.table.holds(candidate, address, port)) localPort = candidate;
      }
      if (!localPort) return { ok: false, error: 'no-free-port' };
    }
    const local = { address: source, port: localPort };
    const connection = new TcpConnection(
      this.host,
      local,
      { address, port },
      this.initialSequence.next(local.address, localPort, address, port),
      options,
      'syn-sent',
    );
    this.add(connection);
    connection.connect();
    return { ok: true, connection: connection.socket };
  }

  /** A snapshot of every connection this layer knows (any state but closed), for diagnostics. */
  connections(): TcpDiagnostics[] {
    return [...this.table.values()].map((c) => diagnose(c));
  }

  /** A snapshot of the connection behind `socket`, or undefined when it is not one of this layer's (or is gone). */
  inspect(socket: TcpSocket): TcpDiagnostics | undefined {
    if (!(socket instanceof ConnectionSocket)) return undefined;
    const connection = this.table.get(socket.localAddress, socket.localPort, socket.remoteAddress, socket.remotePort);
    return connection?.socket === socket ? diagnose(connection) : undefined;
  }

  /** Connections this layer knows (any state but closed). */
  get connectionCount(): number {
    return this.table.size;
  }

  private add(connection: TcpConnection): void {
    this.table.add(connection);
    this.stats.connections_opened.increment();
    this.stats.connections_active.value = this.table.size;
  }

  private release(connection: TcpConnection): void {
    this.table.delete(connection);
    const listening = this.passive.get(connection);
    if (listening) {
      listening.halfOpen--;
      this.passive.delete(connection);
    }
    this.stats.connections_closed.increment();
    this.stats.connections_active.value = this.table.size;
  }

  private established(connection: TcpConnection): void {
    const listening = this.passive.get(connection);
    if (!listening) return;
    this.passive.delete(connection);
    listening.halfOpen--;
    listening.onConnection(connection.socket);
  }

  private allowChallengeAck(): boolean {
    if (this.challengeAcks.allow()) return true;
    this.stats.challenge_acks_limited.increment();
    return false;
  }

  /** The most payload one TSO segment to `remote` carries: IPv4 only, and only with checksum offload. */
  private largeSendBytes(remote: IpAddress): number {
    const offloads = this.ip.offloads;
    if (typeof remote !== 'number' || !offloads.tso4 || !offloads.checksumTx) return 0;
    // Room for the largest IP and TCP headers, below IPv4's 64 KiB.
    return Math.max(0, Math.min(offloads.tsoMaxBytes, 65535) - 20 - 60);
  }

  /**
   * Sends one segment. The IP layer calls `writeSegment` back synchronously with the frame: what it
   * needs waits in fields, so no closure or options object is made per segment.
   */
  private sendSegment(
    source: IpAddress,
    destination: IpAddress,
    repr: TcpRepr,
    payloadLength: number,
    payload?: PayloadCopier,
    segmentSize = 0,
  ): boolean {
    const headerLength = tcpHeaderLength(repr);
    const total = headerLength + payloadLength;
    const offloaded = this.ip.offloads.checksumTx;
    this.outRepr = repr;
    this.outSource = source;
    this.outDestination = destination;
    this.outHeaderLength = headerLength;
    this.outPayloadLength = payloadLength;
    this.outPayload = payload;
    this.outPartial = offloaded;
    let options: IpSendOptions | undefined;
    if (offloaded) {
      options = this.outOptions;
      options.segmentSize = segmentSize > 0 && payloadLength > segmentSize ? segmentSize : 0;
      options.transportHeaderLength = headerLength;
    }
    const result = this.ip.send(destination, IpProtocolValue.tcp, total, this.writeSegment, options);
    this.outPayload = undefined;
    this.outRepr = undefined;
    return result.ok;
  }

  private outRepr: TcpRepr | undefined;
  private outSource: IpAddress = IPV4_ANY;
  private outDestination: IpAddress = IPV4_ANY;
  private outHeaderLength = 0;
  private outPayloadLength = 0;
  private outPayload: PayloadCopier | undefined;
  private outPartial = false;
  private readonly outOptions: IpSendOptions = { checksumOffset: 16, segmentSize: 0, transportHeaderLength: 0 };
  private readonly writeSegment = (buffer: Uint8Array, offset: number, from: IpAddress): void => {
    const headerLength = this.outHeaderLength;
    const total = headerLength + this.outPayloadLength;
    if (this.outPayload) this.outPayload(buffer, offset + headerLength);
    emitTcp(
      this.outRepr!,
      buffer.subarray(offset, offset + total),
      this.outPayloadLength,
      from === IPV4_ANY ? this.outSource : from,
      this.outDestination,
      this.outPartial,
    );
  };

  private receive(datagram: IpDatagram): void {
    this.stats.segments_rx.increment();
    // Read into one reused segment (no packet, repr or result objects per segment); a checksum the NIC
    // verified (or that never left this host) is not summed again.
    const tcp = this.incoming;
    const problem = readTcpSegment(
      datagram.payload,
      datagram.source,
      datagram.destination,
      !datagram.checksumValid,
      tcp,
      this.incomingTimestamps,
    );
    if (problem !== undefined) {
      if (problem === 'checksum') this.stats.bad_checksum.increment();
      else this.stats.malformed.increment();
      return;
    }
    if (!datagram.unicast) return; // TCP is unicast
    const existing = this.table.get(datagram.destination, tcp.destinationPort, datagram.source, tcp.sourcePort);
    if (existing) {
      // A new SYN for a connection in TIME-WAIT starts a new one when it is clearly newer (RFC 6191).
      if (
        existing.state === 'time-wait' &&
        tcp.flags & TcpFlag.syn &&
        !(tcp.flags & TcpFlag.ack) &&
        seqGt(tcp.sequence, existing.receiveNext)
      ) {
        existing.terminate('normal');
      } else {
        existing.receive(tcp);
        return;
      }
    }
    const listening = this.listeners.get(tcp.destinationPort);
    const flags = tcp.flags;
    if (flags & TcpFlag.rst) return;
    // LISTEN (RFC 9293 §3.10.7.2): without SYN or ACK (FIN, null and Xmas scans) a segment is discarded,
    // not reset; SYN+FIN is no way to open (Linux discards it too).
    if (listening && !(flags & TcpFlag.ack) && (!(flags & TcpFlag.syn) || flags & TcpFlag.fin)) {
      this.stats.listen_discarded.increment();
      return;
    }
    if (listening && flags & TcpFlag.ack && !(flags & TcpFlag.syn) && this.clock.now() - listening.cookieSentAt < COOKIE_RECENT_MS) {
      if (this.acceptCookie(datagram, tcp, listening)) return;
      this.stats.syn_cookies_rejected.increment();
    }
    if (!listening || !(flags & TcpFlag.syn) || flags & TcpFlag.ack) {
      this.resetFor(datagram, tcp);
      return;
    }
    if (listening.halfOpen >= listening.backlog) {
      this.stats.listen_overflows.increment();
      if (listening.options.synCookies === false) this.stats.syn_dropped.increment();
      else this.sendCookie(datagram, tcp, listening);
      return;
    }
    const local = { address: datagram.destination, port: tcp.destinationPort };
    const remote = { address: datagram.source, port: tcp.sourcePort };
    const connection = new TcpConnection(
      this.host,
      local,
      remote,
      this.initialSequence.next(local.address, local.port, remote.address, remote.port),
      listening.options,
      'syn-received',
    );
    listening.halfOpen++;
    this.passive.set(connection, listening);
    this.add(connection);
    connection.acceptSyn(tcp);
  }

  /**
   * A SYN-ACK whose sequence number is a SYN cookie (RFC 4987), and nothing kept: MSS, window scale and
   * SACK-permitted come back with the ACK (the last two only with timestamps, as Linux does).
   */
  private sendCookie(datagram: IpDatagram, syn: IncomingSegment, listening: Listening): void {
    const options = listening.options;
    const endpoints = {
      localAddress: datagram.destination,
      localPort: syn.destinationPort,
      remoteAddress: datagram.source,
      remotePort: syn.sourcePort,
    };
    const cookie = this.cookies.make(endpoints, syn.sequence, syn.mss ?? 536);
    const capacity = options.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER;
    const repr: TcpRepr = {
      sourcePort: syn.destinationPort,
      destinationPort: syn.sourcePort,
      sequence: cookie.sequence,
      acknowledgment: seqAdd(syn.sequence, 1),
      flags: TcpFlag.syn | TcpFlag.ack,
      window: Math.min(capacity, 0xffff),
      mss: this.host.localMss,
    };
    if (syn.timestamps && options.timestamps !== false) {
      const windowScale = options.windowScaling !== false && syn.windowScale !== undefined ? syn.windowScale : undefined;
      const sackPermitted = options.sack !== false && syn.sackPermitted === true;
      repr.timestamps = { value: this.cookies.timestamp(timestampOf(this.clock), windowScale, sackPermitted), echo: syn.timestamps.value };
      if (windowScale !== undefined) repr.windowScale = windowShiftFor(capacity);
      if (sackPermitted) repr.sackPermitted = true;
    }
    this.sendSegment(datagram.destination, datagram.source, repr, 0);
    this.stats.segments_tx.increment();
    this.stats.syn_cookies_sent.increment();
    listening.cookieSentAt = this.clock.now();
  }

  /** An ACK that may bring a cookie back: the connection, made now, when it does. */
  private acceptCookie(datagram: IpDatagram, ack: IncomingSegment, listening: Listening): boolean {
    const endpoints = {
      localAddress: datagram.destination,
      localPort: ack.destinationPort,
      remoteAddress: datagram.source,
      remotePort: ack.sourcePort,
    };
    const iss = seqAdd(ack.acknowledgment, -1);
    const mss = this.cookies.check(endpoints, seqAdd(ack.sequence, -1), iss);
    if (mss === undefined) return false;
    // Window scale and SACK-permitted came back in the echo of our timestamp, when we sent one.
    const options = listening.options;
    const kept =
      ack.timestamps && options.timestamps !== false
        ? SynCookies.optionsFromEcho(ack.timestamps.echo)
        : { windowScale: undefined, sackPermitted: false };
    const local = { address: datagram.destination, port: ack.destinationPort };
    const connection = new TcpConnection(
      this.host,
      local,
      { address: datagram.source, port: ack.sourcePort },
      iss,
      options,
      'syn-received',
    );
    listening.halfOpen++;
    this.passive.set(connection, listening);
    this.add(connection);
    this.stats.syn_cookies_accepted.increment();
    const handshake = cookieHandshake(ack, { mss, ...kept });
    connection.acceptCookie(handshake.syn, handshake.ack);
    return true;
  }

  /** Resets sent in answer to segments, within their limit (counted when over it). */
  private allowReset(): boolean {
    if (this.resets.allow()) return true;
    this.stats.resets_limited.increment();
    return false;
  }

  /** The reset for a segment that belongs to no connection (RFC 9293 §3.10.7.1), within the rate limit. */
  private resetFor(datagram: IpDatagram, segment: IncomingSegment): void {
    if (!this.allowReset()) return;
    const remotePort = segment.sourcePort;
    const localPort = segment.destinationPort;
    const length = segment.payload.length + (segment.flags & TcpFlag.syn ? 1 : 0) + (segment.flags & TcpFlag.fin ? 1 : 0);
    const repr: TcpRepr =
      segment.flags & TcpFlag.ack
        ? {
            sourcePort: localPort,
            destinationPort: remotePort,
            sequence: segment.acknowledgment,
            acknowledgment: 0,
            flags: TcpFlag.rst,
            window: 0,
          }
        : {
            sourcePort: localPort,
            destinationPort: remotePort,
            sequence: 0,
            acknowledgment: seqAdd(segment.sequence, length),
            flags: TcpFlag.rst | TcpFlag.ack,
            window: 0,
          };
    this.sendSegment(datagram.destination, datagram.source, repr, 0);
    this.stats.resets_tx.increment();
  }

  /** Resets the connections bound to `address` (it was given up: they cannot go on). */
  abortBoundTo(address: IpAddress): void {
    for (const connection of [...this.table.values()]) if (connection.localAddress === address) connection.abort();
  }

  /** Resets every connection and forgets every listener. */
  close(): void {
    for (const connection of [...this.table.values()]) connection.abort();
    this.listeners.clear();
  }
}
