import { eventLoop } from '@uos/kernel';
import { type StatHandle, statman, u64Words } from '@uos/statman';
import type { PciDevice } from './pci.js';

/** What transmit answers. `busy`: the ring is full, wait for onWritable; nothing is queued silently. */
export type TransmitResult = { ok: true } | { ok: false; error: 'busy' | 'too-large' | 'too-small' | 'link-down' | 'stopped' };

/**
 * The segmentation offload a frame asks for (transmit) or carries (receive): numbers as virtio-net's
 * header has them. `tcp4`/`tcp6`: one TCP segment larger than the MTU, cut into (or coalesced from)
 * segments of `gsoSize` payload bytes each.
 */
export const GsoType = { none: 0, tcp4: 1, tcp6: 4 } as const;
export type GsoType = (typeof GsoType)[keyof typeof GsoType];

/**
 * What travels with a frame besides its bytes: the offload information of virtio-net's header in terms
 * any NIC can use. Drivers hand receivers one object per NIC, reused for every frame (valid during the
 * call, like the frame); senders pass their own, reused as they like. Nothing is copied to carry it.
 */
export class FrameInfo {
  /**
   * Transmit: the NIC fills in the checksum covering the frame from `checksumStart` (bytes from the frame's
   * first byte) to its end, storing it `checksumOffset` bytes after that start; the field holds the
   * pseudo-header's sum meanwhile. -1: no checksum to fill in. Receive: a partial checksum left so by the
   * sender on this host (the frame is intact: `checksumValid` is set too), or -1.
   */
  checksumStart = -1;
  checksumOffset = 0;
  /** Receive: the TCP/UDP checksum needs no verifying (the NIC verified it, or the frame never left this host). */
  checksumValid = false;
  /** Transmit: segmentation to apply; receive: the frame coalesces segments (`GsoType`). */
  gsoType: GsoType = GsoType.none;
  /** Payload bytes of each segment on the wire (the MSS), with `gsoType`. */
  gsoSize = 0;
  /** Bytes before the TCP payload (Ethernet, IP and TCP headers), with `gsoType`. */
  headerLength = 0;

  /** Back to "nothing offloaded"; returns this. */
  clear(): this {
    this.checksumStart = -1;
    this.checksumOffset = 0;
    this.checksumValid = false;
    this.gsoType = GsoType.none;
    this.gsoSize = 0;
    this.headerLength = 0;
    return this;
  }
}

/**
 * What a NIC does in hardware for the network stack. A driver reports only what it negotiated with its
 * device: a NIC without offloads (user networking, a legacy device, a driver that has none) has
 * `NO_OFFLOADS`, and the stack does everything in software.
 */
export interface NicOffloads {
  /** Transmit: fills in TCP and UDP checksums a frame's `FrameInfo` asks for. */
  readonly checksumTx: boolean;
  /** Receive: marks frames whose checksums need no verifying (`FrameInfo.checksumValid`). */
  readonly checksumRx: boolean;
  /**
   * Transmit: the largest IP datagram (bytes, headers included) it cuts into MSS-sized TCP segments itself
   * (TSO), for IPv4 and IPv6; 0 without it. Needs `checksumTx`.
   */
  readonly tsoMaxBytes: number;
  readonly tso4: boolean;
  readonly tso6: boolean;
  /** Receive: may deliver TCP segments coalesced beyond the MTU (up to 64 KiB; `FrameInfo.gsoType` says so). */
  readonly coalescedRx: boolean;
}

/** A NIC that offloads nothing. */
export const NO_OFFLOADS: NicOffloads = Object.freeze({
  checksumTx: false,
  checksumRx: false,
  tsoMaxBytes: 0,
  tso4: false,
  tso6: false,
  coalescedRx: false,
});

/** A network interface card, as drivers provide it and the network stack uses it. */
export interface Nic {
  /** eth0, eth1, ... in probe order. */
  readonly name: string;
  /** The driver's name, e.g. virtio-net. */
  readonly driver: string;
  readonly device: PciDevice | undefined;
  /** Six bytes. */
  readonly mac: Uint8Array;
  /** Largest payload of an Ethernet frame, without the 14-byte header (1500 unless the device says otherwise). */
  readonly mtu: number;
  readonly linkUp: boolean;
  readonly stats: NicStats;
  /** What the NIC does in hardware (`NO_OFFLOADS` when nothing). */
  readonly offloads: NicOffloads;
  /**
   * Sends one Ethernet frame (destination MAC first, no FCS); the frame is copied before it returns.
   * `info` asks for offloads the NIC has (`offloads`); a frame longer than the MTU needs segmentation
   * (`info.gsoType`) and TSO. Without `info` nothing is offloaded.
   */
  transmit(frame: Uint8Array, info?: FrameInfo): TransmitResult;
  /**
   * Calls `listener` with each received frame and its `FrameInfo` (one object, reused). The view and the
   * info are valid only during the call (the buffer goes back to the device afterwards): copy what you
   * keep. While anyone listens, the service keeps running.
   */
  onReceive(listener: (frame: Uint8Array, info: FrameInfo) => void): () => void;
  /**
   * Called once the frames one interrupt brought were all handed to `onReceive` listeners: where a stack
   * sends what it held back while a batch came in (ACKs). Drivers that cannot tell batches apart call it
   * after every frame.
   */
  onReceiveBatchEnd(listener: () => void): () => void;
  /** After a `busy`, called once transmit has room again. */
  onWritable(listener: () => void): () => void;
  onLinkChange(listener: (up: boolean) => void): () => void;
}

/** The statistics of one NIC, `<ifname>.nic.<counter>` in statman. */
export const NicStat = {
  rxPackets: 'rx_packets',
  rxBytes: 'rx_bytes',
  rxDropped: 'rx_dropped',
  txPackets: 'tx_packets',
  txBytes: 'tx_bytes',
  txBusy: 'tx_busy',
  txErrors: 'tx_errors',
  interrupts: 'interrupts',
} as const;

export class NicStats {
  readonly rxPackets: StatHandle;
  readonly rxBytes: StatHandle;
  readonly rxDropped: StatHandle;
  readonly txPackets: StatHandle;
  readonly txBytes: StatHandle;
  readonly txBusy: StatHandle;
  readonly txErrors: StatHandle;
  readonly interrupts: StatHandle;
  /**
   * The u64 words of the counters every frame bumps (statman's shared array: low word at `…At`, high
   * word after it), for the data path to add to inline: a method call per counter is a few hundred guest
   * instructions in the image's interpreter, several per echo.
   */
  readonly words: Uint32Array;
  readonly rxPacketsAt: number;
  readonly rxBytesAt: number;
  readonly txPacketsAt: number;
  readonly txBytesAt: number;
  readonly interruptsAt: number;

  constructor(ifname: string) {
    const counter = (name: string): StatHandle => statman.getOrCreate(`${ifname}.nic.${name}`, { type: 'u64' });
    this.rxPackets = counter(NicStat.rxPackets);
    this.rxBytes = counter(NicStat.rxBytes);
    this.rxDropped = counter(NicStat.rxDropped);
    this.txPackets = counter(NicStat.txPackets);
    this.txBytes = counter(NicStat.txBytes);
    this.txBusy = counter(NicStat.txBusy);
    this.txErrors = counter(NicStat.txErrors);
    this.interrupts = counter(NicStat.interrupts);
    this.words = u64Words(this.rxPackets);
    this.rxPacketsAt = this.rxPackets.index;
    this.rxBytesAt = this.rxBytes.index;
    this.txPacketsAt = this.txPackets.index;
    this.txBytesAt = this.txBytes.index;
    this.interruptsAt = this.interrupts.index;
  }
}

/** Listener bookkeeping every driver needs; drivers extend it and call the `emit*` methods. */
export abstract class NicBase implements Nic {
  abstract readonly driver: string;
  abstract readonly device: PciDevice | undefined;
  abstract readonly mac: Uint8Array;
  abstract readonly mtu: number;
  abstract readonly linkUp: boolean;
  abstract transmit(frame: Uint8Array, info?: FrameInfo): TransmitResult;
  readonly stats: NicStats;
  /** Drivers with offloads override it with what they negotiated. */
  readonly offloads: NicOffloads = NO_OFFLOADS;
  /** Handed to receivers with each frame; drivers fill it (`receiveInfo.clear()` for a plain frame). */
  protected readonly receiveInfo = new FrameInfo();
  private readonly receivers = new Set<(frame: Uint8Array, info: FrameInfo) => void>();
  /** The receivers as an array, rebuilt on change: iterating a Set allocates, and this runs per frame. */
  private receiverList: ((frame: Uint8Array, info: FrameInfo) => void)[] = [];
  private readonly batchEnd = new Set<() => void>();
  private batchEndList: (() => void)[] = [];
  private readonly writable = new Set<() => void>();
  private readonly link = new Set<(up: boolean) => void>();
  /** Held while anyone listens for frames: a service waiting for traffic keeps running. */
  private release: (() => void) | undefined;

  /**
   * `keepAlive` holds the service open while anyone listens for frames (the kernel's event loop by
   * default; tests pass their own).
   */
  constructor(
    readonly name: string,
    private readonly keepAlive: () => () => void = () => eventLoop().hold(),
  ) {
    this.stats = new NicStats(name);
  }

  onReceive(listener: (frame: Uint8Array, info: FrameInfo) => void): () => void {
    this.release ??= this.keepAlive(); // first: if it throws, nothing is left registered
    this.receivers.add(listener);
    this.receiverList = [...this.receivers];
    return () => {
      this.receivers.delete(listener);
      this.receiverList = [...this.receivers];
      if (!this.receivers.size && this.release) {
        this.release();
        this.release = undefined;
      }
    };
  }

  onReceiveBatchEnd(listener: () => void): () => void {
    this.batchEnd.add(listener);
    this.batchEndList = [...this.batchEnd];
    return () => {
      this.batchEnd.delete(listener);
      this.batchEndList = [...this.batchEnd];
    };
  }

  onWritable(listener: () => void): () => void {
    this.writable.add(listener);
    return () => this.writable.delete(listener);
  }

  onLinkChange(listener: (up: boolean) => void): () => void {
    this.link.add(listener);
    return () => this.link.delete(listener);
  }

  /**
   * A received frame: counted, then handed to every listener with `info` (dropped and counted when nobody
   * listens). Without `info`, the frame goes with `receiveInfo` cleared: nothing offloaded.
   */
  protected emitReceive(frame: Uint8Array, info?: FrameInfo): void {
    // rx_packets and rx_bytes added to inline (see NicStats.words), with the carry into the high word.
    const stats = this.stats;
    const words = stats.words;
    if (++words[stats.rxPacketsAt]! === 0x100000000) words[stats.rxPacketsAt + 1]!++;
    const bytes = words[stats.rxBytesAt]! + frame.length;
    words[stats.rxBytesAt] = bytes;
    if (bytes > 0xffffffff) words[stats.rxBytesAt + 1]!++;
    const list = this.receiverList;
    if (!list.length) {
      this.stats.rxDropped.increment();
      return;
    }
    const carried = info ?? this.receiveInfo.clear();
    for (let i = 0; i < list.length; i++) list[i]!(frame, carried);
  }

  /** The frames of one interrupt were all handed on. */
  protected emitReceiveBatchEnd(): void {
    const list = this.batchEndList;
    for (let i = 0; i < list.length; i++) list[i]!();
  }

  protected emitWritable(): void {
    for (const listener of [...this.writable]) listener();
  }

  protected emitLinkChange(up: boolean): void {
    for (const listener of [...this.link]) listener(up);
  }

  protected get hasReceivers(): boolean {
    return this.receivers.size > 0;
  }
}

/** "52:54:00:12:34:56" */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}
