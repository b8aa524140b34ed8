import { IPV4_ANY, IPV4_BROADCAST, type Ipv4Address, formatIpv4Address, macFromBytes } from '../wire/address.js';
import type { TimerHandle } from '../clock.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpPacket, type DhcpRepr, dhcpLength, emitDhcp, parseDhcp } from '../wire/dhcp.js';
import type { Inet } from '../iface/inet.js';
import type { UdpMessage, UdpSocket } from '../socket/udp/udp-layer.js';

export interface DhcpClientOptions {
  /** Sent as option 12, so the server (dnsmasq) can register the name. */
  hostname?: string;
  /** The first retransmission after this long, doubling up to 64 s, with ±1 s of jitter (RFC 2131 §4.1); default 1000. */
  initialRetransmitMs?: number;
  /** `start()` answers 'timeout' when no lease came within this long (default 30 s); the client keeps trying. */
  timeoutMs?: number;
  /**
   * Before using a new address, ask by ARP whether another host holds it (RFC 5227 probes; on a conflict
   * the client declines the address and starts over after 10 s). Off by default: the three probes a
   * second apart that RFC 5227 asks for would triple a unikernel's boot time. `true` means those
   * defaults; or give the count and interval.
   */
  probeAddress?: boolean | { probes?: number; intervalMs?: number };
}

export interface DhcpLease {
  address: Ipv4Address;
  prefixLength: number;
  gateway?: Ipv4Address;
  dnsServers: Ipv4Address[];
  domainName?: string;
  /** The server that granted the lease (its identifier, option 54). */
  server: Ipv4Address;
  leaseSeconds: number;
  renewalSeconds: number;
  rebindingSeconds: number;
  /** Clock time (ms) the lease was granted. */
  grantedAt: number;
}

export type DhcpState = 'init' | 'selecting' | 'requesting' | 'probing' | 'bound' | 'renewing' | 'rebinding' | 'stopped';
export type DhcpStartResult = { ok: true; lease: DhcpLease } | { ok: false; error: 'timeout' | 'port-in-use' | 'stopped' };

const PARAMETERS = [1, 3, 6, 15, 51, 54, 58, 59];
const INFINITE = 0xffffffff;
/** RFC 2131 §4.4.5: retransmissions while renewing or rebinding wait half the time left, but at least 60 s. */
const MINIMUM_RENEW_RETRY_MS = 60_000;
const MAXIMUM_RETRANSMIT_MS = 64_000;
/** After a NAK, the pause before discovery starts over. */
const NAK_PAUSE_MS = 2_000;
/** After declining an address in use, the wait before discovery starts over (RFC 2131 §3.1, step 5). */
const DECLINE_PAUSE_MS = 10_000;

/** The prefix length of a contiguous netmask, or undefined. */
function prefixOf(mask: Ipv4Address): number | undefined {
  let length = 0;
  while (length < 32 && (mask >>> (31 - length)) & 1) length++;
  return (length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0) === mask ? length : undefined;
}

/** The classful prefix, for a server that sends no netmask. */
function classfulPrefix(address: Ipv4Address): number {
  const first = address >>> 24;
  return first < 128 ? 8 : first < 192 ? 16 : 24;
}

/**
 * A DHCPv4 client (RFC 2131) for one Inet: DISCOVER, OFFER, REQUEST, ACK, then the lease kept up by
 * renewing with the server at T1 and rebinding with any server at T2; when the lease runs out, the
 * interface is unconfigured and discovery starts over. A NAK starts over at once. Replies must carry our
 * transaction ID and hardware address; the one offer taken is the first that arrives.
 */
export class DhcpClient {
  state: DhcpState = 'init';
  lease: DhcpLease | undefined;
  private socket: UdpSocket | undefined;
  private transactionId = 0;
  private startedAt = 0;
  private retransmitMs: number;
  private retransmitTimer: TimerHandle | undefined;
  private leaseTimers: TimerHandle[] = [];
  private offer: DhcpRepr | undefined;
  /** Addresses declined because another host held them (RFC 5227), the last 16, most recent last. */
  readonly declined: Ipv4Address[] = [];
  private readonly leaseListeners = new Set<(lease: DhcpLease) => void>();
  private readonly lostListeners = new Set<() => void>();
  private readonly mac: number;

  constructor(
    readonly inet: Inet,
    private readonly options: DhcpClientOptions = {},
  ) {
    this.retransmitMs = options.initialRetransmitMs ?? 1000;
    this.mac = macFromBytes(inet.device.mac);
  }

  /**
   * Starts (or goes on) acquiring a lease; resolves with the first lease, or 'timeout' after
   * `timeoutMs` (discovery continues in the background and `onLease` reports a later success).
   */
  start(): Promise<DhcpStartResult> {
    if (this.state === 'stopped') return Promise.resolve({ ok: false, error: 'stopped' });
    if (!this.socket) {
      const bound = this.inet.udp.bind(DHCP_CLIENT_PORT);
      if (!bound.ok) return Promise.resolve({ ok: false, error: 'port-in-use' });
      this.socket = bound.socket;
      // UDP -> DHCP
      this.socket.onMessage((message) => this.receive(message));
      this.discover();
    }
    if (this.lease && (this.state === 'bound' || this.state === 'renewing' || this.state === 'rebinding')) {
      return Promise.resolve({ ok: true, lease: this.lease });
    }
    return new Promise((resolve) => {
      const timer = this.inet.clock.setTimer(this.options.timeoutMs ?? 30_000, () => {
        this.leaseListeners.delete(onLease);
        resolve({ ok: false, error: this.state === 'stopped' ? 'stopped' : 'timeout' });
      });
      const onLease = (lease: DhcpLease): void => {
        timer.cancel();
        this.leaseListeners.delete(onLease);
        resolve({ ok: true, lease });
      };
      this.leaseListeners.add(onLease);
    });
  }

  /** Called on every lease granted: the first, and each renewal or rebinding. */
  onLease(listener: (lease: DhcpLease) => void): () => void {
    this.leaseListeners.add(listener);
    return () => this.leaseListeners.delete(listener);
  }

  /** Called when a lease ran out or the server refused it (NAK): the interface has no address now. */
  onLeaseLost(listener: () => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /**
   * Gives the address back (DHCPRELEASE) and stops; the interface is unconfigured once the release has
   * left (its next hop resolved, at most a second later).
   */
  release(): Promise<void> {
    const lease = this.lease;
    const canSend = lease !== undefined && this.inet.configured;
    if (canSend) this.send(lease.server, { ...this.base('release', lease.address), serverIdentifier: lease.server });
    this.stop();
    if (!lease) return Promise.resolve();
    return new Promise((resolve) => {
      const started = this.inet.clock.now();
      const finish = (): void => {
        if (canSend && this.inet.arp.resolving(lease.server) && this.inet.clock.now() - started < 1000) {
          this.inet.clock.setTimer(20, finish);
          return;
        }
        if (this.inet.address === lease.address) this.inet.unconfigure();
        resolve();
      };
      finish();
    });
  }

  /** Stops: no more messages or timers (the address stays configured until its owner changes it). */
  stop(): void {
    this.state = 'stopped';
    this.cancelRetransmit();
    this.cancelLeaseTimers();
    this.socket?.close();
    this.socket = undefined;
  }

  // ---------------------------------------------------------------- messages

  private base(kind: 'discover' | 'request' | 'release' | 'decline', clientAddress: Ipv4Address = IPV4_ANY): DhcpRepr {
    const seconds = Math.min(0xffff, Math.floor((this.inet.clock.now() - this.startedAt) / 1000));
    const repr: DhcpRepr = {
      operation: 'request',
      transactionId: this.transactionId,
      seconds,
      broadcast: clientAddress === IPV4_ANY,
      clientAddress,
      yourAddress: IPV4_ANY,
      serverAddress: IPV4_ANY,
      relayAddress: IPV4_ANY,
      clientHardware: this.mac,
      messageType: { kind },
      clientIdentifier: Uint8Array.of(1, ...this.inet.device.mac),
    };
    if (kind === 'discover' || kind === 'request') {
      repr.parameterRequestList = PARAMETERS;
      repr.maxMessageSize = 576;
      if (this.options.hostname) repr.hostname = this.options.hostname;
    }
    return repr;
  }

  private send(destination: Ipv4Address, repr: DhcpRepr): void {
    if (!this.socket) return;
    const bytes = new Uint8Array(dhcpLength(repr));
    emitDhcp(repr, bytes);
    this.socket.send(destination, DHCP_SERVER_PORT, bytes);
  }

  private discover(): void {
    this.cancelRetransmit();
    this.state = 'selecting';
    this.offer = undefined;
    this.transactionId = this.inet.random.uint32();
    this.startedAt = this.inet.clock.now();
    this.retransmitMs = this.options.initialRetransmitMs ?? 1000;
    this.sendWithRetries(() => this.send(IPV4_BROADCAST, this.base('discover')));
  }

  private request(offer: DhcpRepr): void {
    this.cancelRetransmit();
    this.state = 'requesting';
    this.offer = offer;
    this.retransmitMs = this.options.initialRetransmitMs ?? 1000;
    let attempts = 0;
    this.sendWithRetries(() => {
      // Four requests unanswered: the offer is gone, start over (RFC 2131 §4.4.1 leaves the count to us).
      if (++attempts > 4) {
        this.discover();
        return;
      }
      this.send(IPV4_BROADCAST, {
        ...this.base('request'),
        requestedAddress: offer.yourAddress,
        serverIdentifier: offer.serverIdentifier!,
      });
    });
  }

  /** Sends now, then again with exponential backoff and ±1 s jitter until the state moves on. */
  private sendWithRetries(sendOnce: () => void): void {
    const state = this.state;
    const attempt = (): void => {
      if (this.state !== state) return;
      sendOnce();
      if (this.state !== state) return; // sendOnce started over
      const jitter = (this.inet.random.uint32() % 2001) - 1000;
      const delay = Math.max(100, Math.min(this.retransmitMs, MAXIMUM_RETRANSMIT_MS) + Math.min(jitter, this.retransmitMs / 2));
      this.retransmitMs = Math.min(this.retransmitMs * 2, MAXIMUM_RETRANSMIT_MS);
      this.retransmitTimer = this.inet.clock.setTimer(delay, attempt);
    };
    attempt();
  }

  private receive(message: UdpMessage): void {
    if (message.sourcePort !== DHCP_SERVER_PORT) return;
    const checked = DhcpPacket.checked(message.data);
    const parsed = checked.ok ? parseDhcp(checked.value) : checked;
    if (!parsed.ok) return;
    const reply = parsed.value;
    if (reply.operation !== 'reply' || reply.transactionId !== this.transactionId || reply.clientHardware !== this.mac) return;
    const kind = reply.messageType.kind;
    if (kind === 'offer' && this.state === 'selecting') {
      if (reply.serverIdentifier === undefined || reply.yourAddress === IPV4_ANY || reply.yourAddress === IPV4_BROADCAST) return;
      this.request(reply);
    } else if (kind === 'ack' && (this.state === 'requesting' || this.state === 'renewing' || this.state === 'rebinding')) {
      if (reply.yourAddress === IPV4_ANY) return;
      if (this.state === 'requesting' && reply.serverIdentifier !== undefined && reply.serverIdentifier !== this.offer?.serverIdentifier)
        return;
      if (this.state === 'requesting' && this.options.probeAddress) this.probe(reply);
      else this.bind(reply);
    } else if (kind === 'nak' && (this.state === 'requesting' || this.state === 'renewing' || this.state === 'rebinding')) {
      if (this.state === 'requesting' && reply.serverIdentifier !== undefined && reply.serverIdentifier !== this.offer?.serverIdentifier)
        return;
      this.lose();
      // Start over after a pause, so a server that refuses everything is not answered by a storm.
      this.cancelRetransmit();
      this.state = 'init';
      this.retransmitTimer = this.inet.clock.setTimer(NAK_PAUSE_MS, () => this.discover());
    }
  }

  // ---------------------------------------------------------------- the lease

  /** RFC 5227: the new address is used only when no other host answers for it. */
  private probe(ack: DhcpRepr): void {
    this.cancelRetransmit();
    this.state = 'probing';
    const transaction = this.transactionId;
    const settings = typeof this.options.probeAddress === 'object' ? this.options.probeAddress : {};
    void this.inet.arp.probe(ack.yourAddress, settings).then((conflict) => {
      if (this.state !== 'probing' || this.transactionId !== transaction) return; // stopped meanwhile
      if (!conflict) {
        this.bind(ack);
        return;
      }
      const server = ack.serverIdentifier ?? this.offer?.serverIdentifier;
      if (server !== undefined) {
        this.send(IPV4_BROADCAST, { ...this.base('decline'), requestedAddress: ack.yourAddress, serverIdentifier: server });
      }
      this.declined.push(ack.yourAddress);
      if (this.declined.length > 16) this.declined.shift();
      this.state = 'init';
      this.retransmitTimer = this.inet.clock.setTimer(DECLINE_PAUSE_MS, () => this.discover());
    });
  }

  private bind(ack: DhcpRepr): void {
    this.cancelRetransmit();
    const now = this.inet.clock.now();
    const leaseSeconds = ack.leaseSeconds ?? INFINITE;
    const lease: DhcpLease = {
      address: ack.yourAddress,
      prefixLength: (ack.subnetMask !== undefined ? prefixOf(ack.subnetMask) : undefined) ?? classfulPrefix(ack.yourAddress),
      dnsServers: ack.dnsServers ?? [],
      server: ack.serverIdentifier ?? this.lease?.server ?? this.offer?.serverIdentifier ?? IPV4_ANY,
      leaseSeconds,
      renewalSeconds: ack.renewalSeconds ?? Math.floor(leaseSeconds / 2),
      rebindingSeconds: ack.rebindingSeconds ?? Math.floor(leaseSeconds * 0.875),
      grantedAt: now,
    };
    const gateway = ack.routers?.find((r) => r !== IPV4_ANY);
    if (gateway !== undefined) lease.gateway = gateway;
    if (ack.domainName) lease.domainName = ack.domainName;
    const previous = this.lease;
    this.lease = lease;
    this.state = 'bound';
    const same =
      previous &&
      previous.address === lease.address &&
      previous.prefixLength === lease.prefixLength &&
      previous.gateway === lease.gateway &&
      this.inet.configured &&
      this.inet.address === lease.address;
    if (same) this.inet.dnsServers = lease.dnsServers;
    else {
      this.inet.configure({
        address: lease.address,
        prefixLength: lease.prefixLength,
        dnsServers: lease.dnsServers,
        ...(lease.gateway !== undefined ? { gateway: lease.gateway } : {}),
      });
    }
    this.scheduleLease(lease);
    for (const listener of [...this.leaseListeners]) listener(lease);
  }

  private scheduleLease(lease: DhcpLease): void {
    this.cancelLeaseTimers();
    if (lease.leaseSeconds === INFINITE) return;
    const clock = this.inet.clock;
    const at = (seconds: number): number => Math.max(0, lease.grantedAt + seconds * 1000 - clock.now());
    this.leaseTimers.push(
      clock.setTimer(at(lease.renewalSeconds), () => this.renew('renewing')),
      clock.setTimer(at(lease.rebindingSeconds), () => this.renew('rebinding')),
      clock.setTimer(at(lease.leaseSeconds), () => this.expire()),
    );
  }

  /** T1: ask the granting server, unicast; T2: ask anyone, broadcast. Retries wait half of what is left. */
  private renew(state: 'renewing' | 'rebinding'): void {
    const lease = this.lease;
    if (!lease || this.state === 'stopped') return;
    this.cancelRetransmit();
    this.state = state;
    this.transactionId = this.inet.random.uint32();
    this.startedAt = this.inet.clock.now();
    const deadline = lease.grantedAt + (state === 'renewing' ? lease.rebindingSeconds : lease.leaseSeconds) * 1000;
    const attempt = (): void => {
      if (this.state !== state) return;
      this.send(state === 'renewing' ? lease.server : IPV4_BROADCAST, this.base('request', lease.address));
      const left = deadline - this.inet.clock.now();
      if (left > MINIMUM_RENEW_RETRY_MS)
        this.retransmitTimer = this.inet.clock.setTimer(Math.max(MINIMUM_RENEW_RETRY_MS, left / 2), attempt);
    };
    attempt();
  }

  private expire(): void {
    if (this.state === 'stopped') return;
    this.lose();
    this.discover();
  }

  private lose(): void {
    this.cancelLeaseTimers();
    const had = this.lease;
    this.lease = undefined;
    if (had) {
      this.inet.unconfigure();
      for (const listener of [...this.lostListeners]) listener();
    }
  }

  private cancelRetransmit(): void {
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
  }

  private cancelLeaseTimers(): void {
    for (const t of this.leaseTimers) t.cancel();
    this.leaseTimers = [];
  }

  toString(): string {
    const lease = this.lease;
    return lease
      ? `${this.state} ${formatIpv4Address(lease.address)}/${lease.prefixLength} from ${formatIpv4Address(lease.server)}`
      : this.state;
  }
}
