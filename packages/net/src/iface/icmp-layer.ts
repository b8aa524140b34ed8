import { type IpAddress, type Ipv4Address, readIpv4 } from '../wire/address.js';
import type { NetClock, RandomSource, TimerHandle } from '../clock.js';
import { type Icmpv4Message, Icmpv4Packet, UnreachableCode, emitIcmpv4, icmpv4Length, parseIcmpv4 } from '../wire/icmpv4.js';
import type { IpDatagram, IpLayer, IpSendResult } from './ip-layer.js';
import { IpProtocolValue } from '../wire/ipv4.js';
import { checksumFold, checksumSum } from '../wire/checksum.js';
import { type LayerStats, type StatScope, layerStats, u64Words } from '../stat-names.js';
import { RateLimiter } from '../rate-limit.js';

export type PingResult =
  | { ok: true; rttMs: number; ttl: number; bytes: number }
  | { ok: false; error: 'timeout' | 'unreachable' | IpSendResultError };
type IpSendResultError = Extract<IpSendResult, { ok: false }>['error'];

/** What a destination-unreachable message says about a datagram we sent (from the quote it carries). */
export interface UnreachableReport {
  /** The ICMP code (ICMPv4's UnreachableCode: 3 port, 2 protocol, 0/1 network/host, 4 fragmentation needed, …). */
  code: number;
  protocol: number;
  /** Our address and the destination of the datagram that did not arrive. */
  source: IpAddress;
  destination: IpAddress;
  /** For UDP and TCP: the ports from the quoted header. */
  sourcePort: number;
  destinationPort: number;
}

export interface PingOptions {
  /** Default 1000 ms. */
  timeoutMs?: number;
  /** Payload bytes (default 56, like ping). */
  size?: number;
}

/** What a transport layer needs of the ICMP of its IP version: errors about datagrams out, and reports of its own. */
export interface IcmpErrors {
  /** Tells the sender of `datagram` that nothing listens on its destination port. */
  portUnreachable(datagram: IpDatagram): void;
  /** Calls `listener` for each destination-unreachable message about a datagram we sent. */
  onUnreachable(listener: (report: UnreachableReport) => void): () => void;
}

/** Unreachable messages: at most `burst` at once, refilled at `perSecond` (RFC 1812 rate limiting). */
const ERROR_BURST = 20;
const ERRORS_PER_SECOND = 10;

/**
 * ICMPv4 (RFC 792): answers echo requests, sends rate-limited destination-unreachable messages for the
 * layers above (port and protocol unreachable), and pings.
 */
export class IcmpLayer implements IcmpErrors {
  readonly stats: LayerStats<'icmp'>;
  private readonly waiting = new Map<number, { sentAt: number; resolve: (r: PingResult) => void; timer: TimerHandle }>();
  private readonly identifier: number;
  private sequence = 0;
  private readonly errors: RateLimiter;
  private readonly unreachableListeners = new Set<(report: UnreachableReport) => void>();
  /** The u64 words of echo_requests_rx and echo_replies_tx, added to inline on the echo path (as ipv4's). */
  private readonly counters: Uint32Array;
  private readonly requestsAt: number;
  private readonly repliesAt: number;

  constructor(
    private readonly ip: IpLayer,
    private readonly clock: NetClock,
    random: RandomSource,
    scope: StatScope,
  ) {
    this.stats = layerStats(scope, 'icmp');
    this.counters = u64Words(this.stats.echo_requests_rx);
    this.requestsAt = this.stats.echo_requests_rx.index;
    this.repliesAt = this.stats.echo_replies_tx.index;
    this.identifier = random.uint32() & 0xffff;
    this.errors = new RateLimiter(clock, ERROR_BURST, ERRORS_PER_SECOND);
    // IP4 -> ICMP
    // Bound rather than wrapped in an arrow: one interpreted frame less per ICMP message.
    ip.on(IpProtocolValue.icmp, this.receive.bind(this));
    ip.onUnknownProtocol = (datagram) => this.unreachable(datagram, UnreachableCode.protocol);
  }

  private receive(datagram: IpDatagram): void {
    const payload = datagram.payload;
    // An echo request (type 8, code 0) is answered straight from its bytes: no message object, and the
    // reply's checksum adjusted for the new type (RFC 1624) instead of summed again.
    if (payload.length >= 8 && payload[0] === 8 && payload[1] === 0) {
      if (checksumFold(checksumSum(payload, 0, payload.length, 0)) !== 0) {
        this.stats.malformed.increment();
        return;
      }
      const counters = this.counters;
      if (++counters[this.requestsAt]! === 0x100000000) counters[this.requestsAt + 1]!++; // echo_requests_rx
      if (!datagram.unicast) return; // broadcast pings are not answered (a smurf amplifier is no service)
      this.echoRequest = payload;
      this.ip.send(datagram.source, IpProtocolValue.icmp, payload.length, this.writeEchoReply);
      this.echoRequest = undefined;
      if (++counters[this.repliesAt]! === 0x100000000) counters[this.repliesAt + 1]!++; // echo_replies_tx
      return;
    }
    const checked = Icmpv4Packet.checked(payload);
    const parsed = checked.ok ? parseIcmpv4(checked.value) : checked;
    if (!parsed.ok) {
      this.stats.malformed.increment();
      return;
    }
    const message = parsed.value;
    switch (message.kind) {
      case 'echo-request':
        this.stats.echo_requests_rx.increment();
        // Broadcast pings are not answered (a smurf amplifier is no service).
        if (!datagram.unicast) return;
        this.send(datagram.source, { kind: 'echo-reply', identifier: message.identifier, sequence: message.sequence, data: message.data });
        this.stats.echo_replies_tx.increment();
        return;
      case 'echo-reply': {
        this.stats.echo_replies_rx.increment();
        if (message.identifier !== this.identifier) return;
        const waiting = this.waiting.get(message.sequence);
        if (!waiting) return;
        this.waiting.delete(message.sequence);
        waiting.timer.cancel();
        waiting.resolve({ ok: true, rttMs: this.clock.now() - waiting.sentAt, ttl: datagram.ttl, bytes: message.data.length });
        return;
      }
      case 'destination-unreachable': {
        this.stats.unreachable_rx.increment();
        const report = quotedReport(message.code, message.original);
        // Only about datagrams from us: the quote names our address as their source.
        if (report && this.ip.isLocal(report.source)) for (const listener of [...this.unreachableListeners]) listener(report);
        return;
      }
      default:
        return;
    }
  }

  /** Called for each destination-unreachable message about a datagram we sent (UDP uses it for port unreachable). */
  onUnreachable(listener: (report: UnreachableReport) => void): () => void {
    this.unreachableListeners.add(listener);
    return () => this.unreachableListeners.delete(listener);
  }

  /** The echo request being answered, while `writeEchoReply` runs. */
  private echoRequest: Uint8Array | undefined;
  private readonly writeEchoReply = (buffer: Uint8Array, offset: number): void => {
    const request = this.echoRequest!;
    buffer.set(request, offset);
    buffer[offset] = 0; // echo reply
    // The first word went from 0x0800 to 0x0000: the checksum (its complement sum) grows by 0x0800.
    const sum = ((request[2]! << 8) | request[3]!) + 0x0800;
    const folded = (sum & 0xffff) + (sum >>> 16);
    buffer[offset + 2] = folded >> 8;
    buffer[offset + 3] = folded & 0xff;
  };

  private send(destination: IpAddress, message: Icmpv4Message): IpSendResult {
    const length = icmpv4Length(message);
    return this.ip.send(destination, IpProtocolValue.icmp, length, (buffer, offset) => {
      emitIcmpv4(message, buffer.subarray(offset, offset + length));
    });
  }

  portUnreachable(datagram: IpDatagram): void {
    this.unreachable(datagram, UnreachableCode.port);
  }

  /** Tells the sender of `datagram` it cannot be delivered (`code`: UnreachableCode), within the rate limit. */
  unreachable(datagram: IpDatagram, code: number): void {
    if (!datagram.unicast) return; // never for broadcasts
    if (!this.errors.allow()) {
      this.stats.rate_limited.increment();
      return;
    }
    this.send(datagram.source, { kind: 'destination-unreachable', code, nextHopMtu: 0, original: datagram.quote });
    this.stats.unreachable_tx.increment();
  }

  /** Sends one echo request and resolves with the round-trip time, or a reason. */
  ping(destination: Ipv4Address, options: PingOptions = {}): Promise<PingResult> {
    const sequence = (this.sequence = (this.sequence + 1) & 0xffff);
    const data = new Uint8Array(options.size ?? 56);
    for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
    return new Promise((resolve) => {
      const sentAt = this.clock.now();
      const result = this.send(destination, { kind: 'echo-request', identifier: this.identifier, sequence, data });
      if (!result.ok) {
        resolve({ ok: false, error: result.error });
        return;
      }
      const timer = this.clock.setTimer(options.timeoutMs ?? 1000, () => {
        this.waiting.delete(sequence);
        resolve({ ok: false, error: 'timeout' });
      });
      this.waiting.set(sequence, { sentAt, resolve, timer });
    });
  }

  close(): void {
    for (const [sequence, w] of this.waiting) {
      w.timer.cancel();
      w.resolve({ ok: false, error: 'timeout' });
      this.waiting.delete(sequence);
    }
  }
}

/**
 * The quoted IPv4 header and first 8 bytes of the datagram an ICMP error is about, read leniently (the
 * quote is cut short by design); undefined when too little is there to name protocol and ports.
 */
function quotedReport(code: number, quote: Uint8Array): UnreachableReport | undefined {
  if (quote.length < 20 || quote[0]! >> 4 !== 4) return undefined;
  const headerLength = (quote[0]! & 0x0f) * 4;
  if (headerLength < 20 || quote.length < headerLength + 4) return undefined;
  return {
    code,
    protocol: quote[9]!,
    source: readIpv4(quote, 12),
    destination: readIpv4(quote, 16),
    sourcePort: (quote[headerLength]! << 8) | quote[headerLength + 1]!,
    destinationPort: (quote[headerLength + 2]! << 8) | quote[headerLength + 3]!,
  };
}
