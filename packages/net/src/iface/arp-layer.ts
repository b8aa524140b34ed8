import { BUFFER_OVERHEAD_BYTES, type MemoryAccount } from '../memory.js';
import { IPV4_ANY, type Ipv4Address, MAC_BROADCAST, type MacAddress } from '../wire/address.js';
import { ARP_LENGTH, ArpPacket, type ArpRepr, emitArp, parseArp } from '../wire/arp.js';
import type { NetClock, TimerHandle } from '../clock.js';
import { EtherTypeValue } from '../wire/ethernet.js';
import type { LinkFrameInfo } from './link-device.js';
import type { LinkLayer } from './link-layer.js';
import { type LayerStats, layerStats } from '../stat-names.js';

export interface ArpOptions {
  /** How long a learnt mapping is trusted (default 60 s). */
  entryLifetimeMs?: number;
  /** Cache bound: the oldest entry goes first (default 512). */
  maxEntries?: number;
  /** Frames kept per unresolved address (default 16) and in all (default 256). */
  maxQueuedPerAddress?: number;
  maxQueued?: number;
  /** Requests sent before giving up on an address (default 3, one a second). */
  attempts?: number;
  retryMs?: number;
}

/** What a cache entry is charged: the entry object and its place in the map. */
const ENTRY_BYTES = 256;
/** What a frame waiting for a resolution is charged beyond its bytes (its array and queue entry). */
const QUEUED_OVERHEAD_BYTES = BUFFER_OVERHEAD_BYTES + 64;
const queuedCost = (frame: Uint8Array): number => frame.length + QUEUED_OVERHEAD_BYTES;

interface Pending {
  frames: { frame: Uint8Array; etherType: number; info: LinkFrameInfo | undefined }[];
  attempts: number;
  timer: TimerHandle;
}

/**
 * ARP (RFC 826) for IPv4 over Ethernet: a cache with aging and a bound, and a bounded queue of frames
 * waiting for a resolution; requests for our address are answered; announcements (gratuitous ARP) on
 * configuration.
 */
export class ArpLayer {
  readonly stats: LayerStats<'arp'>;
  private readonly cache = new Map<Ipv4Address, { mac: MacAddress; expires: number }>();
  private readonly pending = new Map<Ipv4Address, Pending>();
  private queued = 0;
  /** Address probes in progress, shown every ARP packet. */
  private readonly watchers = new Set<(arp: ArpRepr) => void>();
  private readonly lifetime: number;
  private readonly maxEntries: number;
  private readonly maxPerAddress: number;
  private readonly maxQueued: number;
  private readonly attempts: number;
  private readonly retryMs: number;
  /** Our address, once configured (requests for it are answered). */
  address: Ipv4Address = IPV4_ANY;
  /** The entry `lookup` found last (cleared whenever the cache changes). */
  private lastAddress: Ipv4Address = IPV4_ANY;
  private lastEntry: { mac: MacAddress; expires: number } | undefined;

  constructor(
    private readonly link: LinkLayer,
    private readonly clock: NetClock,
    options: ArpOptions = {},
    /** The cache and the frames waiting are charged here (the memory budget); a frame it cannot pay for is dropped. */
    private readonly memory?: MemoryAccount,
  ) {
    this.stats = layerStats(link.scope, 'arp');
    this.lifetime = options.entryLifetimeMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 512;
    this.maxPerAddress = options.maxQueuedPerAddress ?? 16;
    this.maxQueued = options.maxQueued ?? 256;
    this.attempts = options.attempts ?? 3;
    this.retryMs = options.retryMs ?? 1000;
    link.on(EtherTypeValue.arp, (payload) => this.receive(payload));
  }

  /** The MAC for `address`, if known and fresh. */
  lookup(address: Ipv4Address): MacAddress | undefined {
    // Most datagrams go to the same next hop as the one before: no Map lookup for them.
    const last = this.lastEntry;
    if (last !== undefined && this.lastAddress === address && last.expires > this.clock.now()) return last.mac;
    const entry = this.cache.get(address);
    if (!entry) return undefined;
    if (entry.expires <= this.clock.now()) {
      this.cache.delete(address);
      this.memory?.release(ENTRY_BYTES);
      this.stats.cache_entries.value = this.cache.size;
      return undefined;
    }
    this.lastAddress = address;
    this.lastEntry = entry;
    return entry.mac;
  }

  /** Whether frames wait for `address` to be resolved. */
  resolving(address: Ipv4Address): boolean {
    return this.pending.has(address);
  }

  /**
   * Sends `frame` (its payload filled in, header not yet) to `nextHop`, resolving the MAC first if needed,
   * with the offloads `info` asks for (a frame that waits is a copy, with a copy of them).
   */
  send(frame: Uint8Array, nextHop: Ipv4Address, etherType: number, info?: LinkFrameInfo): boolean {
    // lookup's first case inline (the next hop of the datagram before): no call for most datagrams.
    const last = this.lastEntry;
    const mac = last !== undefined && this.lastAddress === nextHop && last.expires > this.clock.now() ? last.mac : this.lookup(nextHop);
    if (mac !== undefined) return this.link.send(frame, mac, etherType, info);
    // The frame may be the link layer's, lent until its next `allocate` (the request below makes one):
    // the frame that waits is a copy.
    const waiting = frame.slice();
    let pending = this.pending.get(nextHop);
    if (!pending) {
      pending = { frames: [], attempts: 0, timer: { cancel() {} } };
      this.pending.set(nextHop, pending);
      this.request(nextHop, pending);
    }
    if (
      pending.frames.length >= this.maxPerAddress ||
      this.queued >= this.maxQueued ||
      (this.memory && !this.memory.reserve(queuedCost(frame)))
    ) {
      this.stats.queue_dropped.increment();
      return false;
    }
    pending.frames.push({ frame: waiting, etherType, info: info === undefined ? undefined : { ...info } });
    this.queued++;
    return true;
  }

  private request(target: Ipv4Address, pending: Pending): void {
    if (pending.attempts >= this.attempts) {
      this.pending.delete(target);
      this.dropQueued(pending);
      this.stats.queue_dropped.increment(pending.frames.length);
      this.stats.resolutions_failed.increment();
      return;
    }
    pending.attempts++;
    this.transmit(1, target, 0);
    pending.timer = this.clock.setTimer(this.retryMs, () => this.request(target, pending));
  }

  /** An ARP request (1) or reply (2) from us (from `senderProtocol`: 0.0.0.0 for a probe). */
  private transmit(operation: 1 | 2, targetProtocol: Ipv4Address, targetHardware: MacAddress, senderProtocol = this.address): void {
    const frame = this.link.allocate(ARP_LENGTH);
    emitArp(
      {
        operation: operation === 1 ? { kind: 'request' } : { kind: 'reply' },
        senderHardware: this.link.mac,
        senderProtocol,
        targetHardware,
        targetProtocol,
      },
      frame.subarray(this.link.headerLength),
    );
    this.link.send(frame, operation === 1 ? MAC_BROADCAST : targetHardware, EtherTypeValue.arp);
    if (operation === 1) this.stats.requests_tx.increment();
    else this.stats.replies_tx.increment();
  }

  /**
   * Address conflict detection (RFC 5227): sends `probes` ARP probes for `address` (sender address
   * 0.0.0.0), `intervalMs` apart, and resolves true when another host shows it holds the address (any
   * ARP packet with it as sender) or probes for it at the same time; false after the last interval.
   */
  probe(address: Ipv4Address, options: { probes?: number; intervalMs?: number } = {}): Promise<boolean> {
    const probes = Math.max(1, options.probes ?? 3);
    const intervalMs = options.intervalMs ?? 1000;
    return new Promise((resolve) => {
      let sent = 0;
      let timer: TimerHandle | undefined;
      const finish = (conflict: boolean): void => {
        this.watchers.delete(watch);
        timer?.cancel();
        resolve(conflict);
      };
      const watch = (arp: ArpRepr): void => {
        if (arp.senderHardware === this.link.mac) return;
        if (
          arp.senderProtocol === address ||
          (arp.operation.kind === 'request' && arp.senderProtocol === IPV4_ANY && arp.targetProtocol === address)
        )
          finish(true);
      };
      const next = (): void => {
        if (sent === probes) {
          finish(false);
          return;
        }
        sent++;
        this.transmit(1, address, 0, IPV4_ANY);
        timer = this.clock.setTimer(intervalMs, next);
      };
      this.watchers.add(watch);
      next();
    });
  }

  /** Announces our address (a gratuitous ARP request: sender and target are both us). */
  announce(): void {
    if (this.address === IPV4_ANY) return;
    this.transmit(1, this.address, 0);
  }

  private learn(address: Ipv4Address, mac: MacAddress): void {
    if (address === IPV4_ANY) return;
    this.lastEntry = undefined;
    if (!this.cache.delete(address)) this.memory?.charge(ENTRY_BYTES);
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done && this.cache.delete(oldest.value)) this.memory?.release(ENTRY_BYTES);
    }
    this.cache.set(address, { mac, expires: this.clock.now() + this.lifetime });
    this.stats.cache_entries.value = this.cache.size;
    const pending = this.pending.get(address);
    if (pending) {
      this.pending.delete(address);
      pending.timer.cancel();
      this.dropQueued(pending);
      for (const { frame, etherType, info } of pending.frames) this.link.send(frame, mac, etherType, info);
    }
  }

  private receive(payload: Uint8Array): void {
    const checked = ArpPacket.checked(payload);
    if (!checked.ok) {
      this.stats.malformed.increment();
      return;
    }
    const arp = parseArp(checked.value);
    for (const watch of [...this.watchers]) watch(arp);
    // Nobody sends from a group or all-zero MAC; answering or learning one would send our frames to
    // every station, or nowhere. Nor from our own address (a conflict, which probe() reports): never learnt.
    const sender = arp.senderHardware;
    if (sender === 0 || Math.floor(sender / 0x10000000000) & 1 || (this.address !== IPV4_ANY && arp.senderProtocol === this.address)) {
      this.stats.invalid_sender.increment();
      return;
    }
    const forUs = this.address !== IPV4_ANY && arp.targetProtocol === this.address;
    // RFC 826: refresh what we know; learn the sender when the packet is for us.
    if (forUs || this.cache.has(arp.senderProtocol) || this.pending.has(arp.senderProtocol)) {
      this.learn(arp.senderProtocol, arp.senderHardware);
    }
    if (arp.operation.kind === 'request') {
      this.stats.requests_rx.increment();
      if (forUs && arp.senderProtocol !== this.address) this.transmit(2, arp.senderProtocol, arp.senderHardware);
    } else if (arp.operation.kind === 'reply') {
      this.stats.replies_rx.increment();
    }
  }

  /** Frames of `pending` leave the queue (sent, or given up): no longer counted nor charged. */
  private dropQueued(pending: Pending): void {
    this.queued -= pending.frames.length;
    if (this.memory) for (const { frame } of pending.frames) this.memory.release(queuedCost(frame));
  }

  /** Forgets everything (address change). */
  flush(): void {
    this.memory?.release(this.cache.size * ENTRY_BYTES);
    this.cache.clear();
    this.lastEntry = undefined;
    for (const p of this.pending.values()) {
      p.timer.cancel();
      this.dropQueued(p);
    }
    this.pending.clear();
    this.queued = 0;
    this.stats.cache_entries.value = 0;
  }
}
