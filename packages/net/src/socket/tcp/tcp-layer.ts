import type { NetClock, RandomSource } from '../../clock.js';
import type { IpDatagram, IpLayer } from '../../iface/ip-layer.js';
import { type IpAddress, ipv4Address } from '../../wire/address.js';
import { IpProtocolValue } from '../../wire/ipv4.js';
import { type LayerStats, type StatScope, layerStats, u64Words } from '../../stat-names.js';
import { TcpFlag, type TcpRepr, emptyTcpSegment, readTcpSegment } from '../../wire/tcp.js';
import { TcpConnection } from './connection.js';
import { ConnectionTable } from './connection-table.js';
import { diagnose, diagnoseTimeWait } from './diagnostics.js';
import { SegmentOutput } from './segment-output.js';
import type { ConnectionHost, IncomingSegment, TcpOptions } from './options.js';
import { ConnectionSocket } from './socket.js';
import type { TcpDiagnostics, TcpSocket } from './tcp-socket.js';
import { InitialSequence } from './initial-sequence.js';
import { seqAdd } from './sequence.js';
import { TIME_WAIT_BYTES, TimeWaitTable, timeWaitOf } from './time-wait.js';
import { RateLimiter } from '../../rate-limit.js';
import { type MemoryAccount, MemoryBudget, checkLimit } from '../../memory.js';
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
  /**
   * Connections from this listener at once, the handshake included; past it a SYN is refused with a reset
   * and counted (`tcp.refused_limit`). Unlimited by default: the memory budget bounds them.
   */
  maxConnections?: number;
}

/** Limits of the whole TCP layer (`InetOptions.tcp`). */
export interface TcpLimits {
  /**
   * Connections at once in any state but TIME-WAIT; past it a SYN is refused with a reset and an active
   * open answers 'too-many-connections' (counted in `tcp.refused_limit`). Unlimited by default: the
   * memory budget bounds them.
   */
  maxConnections?: number;
  /**
   * TIME-WAIT records at once; past it the oldest are recycled (`tcp.time_wait_recycled`). Default 4096,
   * less when the memory budget is small (at most an eighth of it in records).
   */
  maxTimeWait?: number;
}

/**
 * What one connection is charged against the memory budget, besides its buffers: what an idle
 * established connection holds in QuickJS (the connection, its socket, sender, timers and the closures a
 * service attaches, about 3.7 KB measured), rounded up.
 */
export const CONNECTION_BYTES = 4096;

export interface ConnectOptions extends TcpOptions {
  /** The local port; a random free ephemeral port (49152-65535) when absent. */
  localPort?: number;
}

export type ListenResult = { ok: true; listener: TcpListener } | { ok: false; error: 'port-in-use' | 'invalid-port' };
export type ConnectStart =
  | { ok: true; connection: TcpSocket }
  | {
      ok: false;
      error: 'no-route' | 'no-free-port' | 'port-in-use' | 'unconfigured' | 'invalid-port' | 'no-memory' | 'too-many-connections';
    };

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
  /** Connections from this listener (the handshake included), and at most. */
  connections: number;
  maxConnections: number;
  /** When this listener last answered a SYN with a cookie (ACKs are checked for cookies only for a while after). */
  cookieSentAt: number;
}

const DEFAULT_RECEIVE_BUFFER = 128 * 1024;
const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;
const CHALLENGE_ACKS_PER_SECOND = 100;
/** Resets for segments that belong to nothing: at most this many at once and per second (FreeBSD allows 200/s). */
const RESETS_PER_SECOND = 100;
/** TIME-WAIT records kept at most before the oldest are recycled (Linux: tcp_max_tw_buckets). */
const DEFAULT_MAX_TIME_WAIT = 4096;
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
  /** segments_rx, counted inline per segment (see `u64Words`). */
  private readonly counters: Uint32Array;
  private readonly segmentsRxAt: number;
  private readonly table = new ConnectionTable<TcpConnection>();
  private readonly passive = new Map<TcpConnection, Listening>();
  private readonly listeners = new Map<number, Listening>();
  private readonly initialSequence: InitialSequence;
  private readonly challengeAcks: RateLimiter;
  private readonly resets: RateLimiter;
  private readonly cookies: SynCookies;
  private readonly host: ConnectionHost<TcpConnection>;
  /** Segments out, through the IP layer and the NIC's offloads. */
  private readonly output: SegmentOutput;
  /** What waits for the end of the batch of received frames (ACKs covering the batch). */
  private readonly batchEndWork: (() => void)[] = [];
  /** The segment being received, refilled for each (connections use it during the call only). */
  private readonly incoming = emptyTcpSegment();
  private readonly incomingTimestamps = { value: 0, echo: 0 };
  private readonly timeWait: TimeWaitTable;
  /** The budget, TCP's fixed costs (connections, TIME-WAIT records) and its buffers in it. */
  readonly memory: MemoryBudget;
  private readonly objects: MemoryAccount;
  private readonly buffers: MemoryAccount;
  private readonly maxConnections: number;
  /** Connections whose writers wait for memory, and whether the budget will wake them. */
  private readonly starved = new Set<TcpConnection>();
  private waking = false;
  private readonly wakeStarved = (): void => {
    this.waking = false;
    const starved = [...this.starved];
    this.starved.clear();
    for (const connection of starved) connection.drainIfRoom();
  };

  constructor(
    private readonly ip: IpLayer,
    private readonly clock: NetClock,
    private readonly random: RandomSource,
    scope: StatScope,
    memory?: MemoryBudget,
    limits: TcpLimits = {},
  ) {
    this.stats = layerStats(scope, 'tcp');
    this.counters = u64Words(this.stats.segments_rx);
    this.segmentsRxAt = this.stats.segments_rx.index;
    this.memory = memory ?? new MemoryBudget({ budgetBytes: 64 * 1024 * 1024 });
    this.objects = this.memory.account();
    this.buffers = this.memory.account(this.stats.buffer_bytes, this.stats.buffer_bytes_peak);
    this.maxConnections = limits.maxConnections ?? Number.POSITIVE_INFINITY;
    const maxTimeWait =
      limits.maxTimeWait ?? Math.max(16, Math.min(DEFAULT_MAX_TIME_WAIT, Math.floor(this.memory.limitBytes / 8 / TIME_WAIT_BYTES)));
    this.initialSequence = new InitialSequence(random, () => clock.now());
    this.challengeAcks = new RateLimiter(clock, CHALLENGE_ACKS_PER_SECOND, CHALLENGE_ACKS_PER_SECOND);
    this.resets = new RateLimiter(clock, RESETS_PER_SECOND, RESETS_PER_SECOND);
    this.cookies = new SynCookies(random, clock);
    this.output = new SegmentOutput(ip);
    this.host = {
      clock,
      // Straight to the segment output: this runs for every segment a connection sends.
      send: (connection, repr, length, payload, segmentSize) =>
        this.output.send(connection.localAddress, connection.remoteAddress, repr, length, payload, segmentSize),
      largeSendBytes: (remote) => this.output.largeSendBytes(remote),
      atBatchEnd: ip.batchesEnd
        ? (flush) => {
            this.batchEndWork.push(flush);
            return true;
          }
        : undefined,
      release: (connection) => this.release(connection),
      timeWait: (connection) => {
        this.release(connection);
        return this.timeWait.add(timeWaitOf(connection));
      },
      established: (connection) => this.established(connection),
      allowChallengeAck: () => this.allowChallengeAck(),
      allowReset: () => this.allowReset(),
      memory: this.buffers,
      starved: (connection) => {
        this.starved.add(connection);
        if (this.waking) return;
        this.waking = true;
        this.memory.whenRoom(this.wakeStarved);
      },
      get localMss() {
        return ip.maxPayload - 20;
      },
      stats: this.stats,
    };
    this.timeWait = new TimeWaitTable(
      {
        clock,
        send: (record, repr) => {
          this.sendSegment(record.localAddress, record.remoteAddress, repr);
          this.stats.segments_tx.increment();
        },
        memory: this.objects,
        recycled: () => this.stats.time_wait_recycled.increment(),
        sizeChanged: (size) => {
          this.stats.time_wait.value = size;
        },
      },
      maxTimeWait,
    );
    // IP -> TCP
    ip.on(IpProtocolValue.tcp, this.receive);
    if (ip.batchesEnd) ip.onBatchEnd(() => this.endBatch());
  }

  /** The ACKs held back for the end of the batch of received frames, sent now. */
  private endBatch(): void {
    const work = this.batchEndWork;
    for (let i = 0; i < work.length; i++) work[i]!();
    work.length = 0;
  }

  /**
   * Accepts connections on `port`; `onConnection` gets each once its handshake completed. Throws a
   * NetError ('insufficient-memory') when `maxConnections` cannot fit the memory budget.
   */
  listen(port: number, onConnection: (socket: TcpSocket) => void, options: ListenOptions = {}): ListenResult {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, error: 'invalid-port' };
    if (this.listeners.has(port)) return { ok: false, error: 'port-in-use' };
    checkLimit(this.memory, `maxConnections of the listener on port ${port}`, options.maxConnections ?? 0, CONNECTION_BYTES);
    const listening: Listening = {
      port,
      onConnection,
      options,
      backlog: options.backlog ?? 128,
      halfOpen: 0,
      connections: 0,
      maxConnections: options.maxConnections ?? Number.POSITIVE_INFINITY,
      cookieSentAt: Number.NEGATIVE_INFINITY,
    };
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
      if (this.table.holds(options.localPort, address, port) || this.timeWait.holds(options.localPort, address, port))
        return { ok: false, error: 'port-in-use' };
      localPort = options.localPort;
    } else {
      // An integer, never a double: QuickJS hashes the two differently as Map keys (see ConnectionTable).
      const start = (this.random.uint32() % EPHEMERAL_COUNT) | 0;
      for (let i = 0; i < EPHEMERAL_COUNT && !localPort; i++) {
        const candidate = EPHEMERAL_FIRST + ((start + i) % EPHEMERAL_COUNT);
        if (!this.listeners.has(candidate) && !this.table.holds(candidate, address, port) && !this.timeWait.holds(candidate, address, port))
          localPort = candidate;
      }
      if (!localPort) return { ok: false, error: 'no-free-port' };
    }
    if (this.table.size >= this.maxConnections) {
      this.stats.refused_limit.increment();
      return { ok: false, error: 'too-many-connections' };
    }
    if (!this.admit()) {
      this.stats.refused_memory.increment();
      return { ok: false, error: 'no-memory' };
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

  /** A snapshot of every connection this layer knows (any state but closed, TIME-WAIT included), for diagnostics. */
  connections(): TcpDiagnostics[] {
    const all = [...this.table.values()].map((c) => diagnose(c));
    for (const record of this.timeWait.values()) all.push(diagnoseTimeWait(record));
    return all;
  }

  /** A snapshot of the connection behind `socket`, or undefined when it is not one of this layer's (or is gone). */
  inspect(socket: TcpSocket): TcpDiagnostics | undefined {
    if (!(socket instanceof ConnectionSocket)) return undefined;
    const connection = this.table.get(socket.localAddress, socket.localPort, socket.remoteAddress, socket.remotePort);
    if (connection?.socket === socket) return diagnose(connection);
    if (socket.state !== 'time-wait') return undefined;
    const record = this.timeWait.get(socket.localAddress, socket.localPort, socket.remoteAddress, socket.remotePort);
    return record ? diagnoseTimeWait(record) : undefined;
  }

  /** Connections this layer knows (any state but closed), TIME-WAIT records included. */
  get connectionCount(): number {
    return this.table.size + this.timeWait.size;
  }

  /** Records in TIME-WAIT. */
  get timeWaitCount(): number {
    return this.timeWait.size;
  }

  /**
   * Charges a new connection's fixed cost (`admit` came first). Under memory pressure TIME-WAIT records
   * are recycled first; false when memory is short all the same (the caller refuses the connection).
   */
  private admit(): boolean {
    const memory = this.memory;
    while (memory.underPressure && this.timeWait.recycleOldest()) {}
    return !memory.underPressure && this.objects.reserve(CONNECTION_BYTES);
  }

  private add(connection: TcpConnection): void {
    this.table.add(connection);
    this.stats.connections_opened.increment();
    this.stats.connections_active.value = this.table.size;
    if (this.table.size > this.stats.connections_peak.value) this.stats.connections_peak.value = this.table.size;
  }

  private release(connection: TcpConnection): void {
    if (!this.table.delete(connection)) return;
    this.starved.delete(connection);
    this.objects.release(CONNECTION_BYTES);
    const listener = connection.listener as Listening | undefined;
    if (listener) listener.connections--;
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

  /** Sends one segment without payload (see SegmentOutput): resets, SYN cookies, TIME-WAIT's answers. */
  private sendSegment(source: IpAddress, destination: IpAddress, repr: TcpRepr): boolean {
    return this.output.send(source, destination, repr, 0);
  }

  /** One segment in (a bound arrow: the IP layer calls it for every TCP datagram, through no other closure). */
  private readonly receive = (datagram: IpDatagram): void => {
    const counters = this.counters;
    if (++counters[this.segmentsRxAt]! === 0x100000000) counters[this.segmentsRxAt + 1]!++; // segments_rx
    // Read into one reused segment (no packet, repr or result objects per segment); a checksum the NIC
    // verified (or that never left this host) is not summed again.
    const tcp = this.incoming;
    const source = datagram.source;
    const destination = datagram.destination;
    const problem = readTcpSegment(datagram.payload, source, destination, !datagram.checksumValid, tcp, this.incomingTimestamps);
    if (problem !== undefined) {
      if (problem === 'checksum') this.stats.bad_checksum.increment();
      else this.stats.malformed.increment();
      return;
    }
    if (!datagram.unicast) return; // TCP is unicast
    const existing = this.table.get(destination, tcp.destinationPort, source, tcp.sourcePort);
    if (existing) {
      existing.receive(tcp);
      return;
    }
    if (this.timeWait.size) {
      const record = this.timeWait.get(datagram.destination, tcp.destinationPort, datagram.source, tcp.sourcePort);
      // A SYN clearly newer than the connection in TIME-WAIT may start a new one (RFC 6191).
      if (record && this.timeWait.receive(record, tcp) === 'done') return;
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
    if (!this.mayOpen(datagram, tcp, listening)) return;
    if (listening.halfOpen >= listening.backlog) {
      this.stats.listen_overflows.increment();
      if (listening.options.synCookies === false) this.stats.syn_dropped.increment();
      else this.sendCookie(datagram, tcp, listening);
      return;
    }
    if (!this.admit()) {
      this.stats.refused_memory.increment();
      this.stats.syn_dropped.increment();
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
    listening.connections++;
    connection.listener = listening;
    this.passive.set(connection, listening);
    this.add(connection);
    connection.acceptSyn(tcp);
  };

  /**
   * Whether the limits let a listener's connection open; when not, a reset refuses it cleanly (the client
   * learns at once) and `tcp.refused_limit` counts it. Short memory is `admit`'s: the SYN is dropped (the
   * client tries again later, when connections may have ended).
   */
  private mayOpen(datagram: IpDatagram, segment: IncomingSegment, listening: Listening): boolean {
    if (listening.connections < listening.maxConnections && this.table.size < this.maxConnections) return true;
    this.stats.refused_limit.increment();
    this.resetFor(datagram, segment);
    return false;
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
    this.sendSegment(datagram.destination, datagram.source, repr);
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
    if (!this.mayOpen(datagram, ack, listening)) return true; // the cookie was good: refused, counted
    if (!this.admit()) {
      this.stats.refused_memory.increment();
      return true; // dropped: the peer's retransmission may find room
    }
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
    listening.connections++;
    connection.listener = listening;
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
    this.sendSegment(datagram.destination, datagram.source, repr);
    this.stats.resets_tx.increment();
  }

  /** Resets the connections bound to `address` (it was given up: they cannot go on). */
  abortBoundTo(address: IpAddress): void {
    for (const connection of [...this.table.values()]) if (connection.localAddress === address) connection.abort();
  }

  /** Resets every connection, forgets every listener and every TIME-WAIT record. */
  close(): void {
    for (const connection of [...this.table.values()]) connection.abort();
    this.listeners.clear();
    this.timeWait.clear();
  }
}
