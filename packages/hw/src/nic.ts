import { eventLoop } from '@uos/kernel';
import { type StatHandle, statman } from '@uos/statman';
import type { PciDevice } from './pci.js';

/** What transmit answers. `busy`: the ring is full, wait for onWritable; nothing is queued silently. */
export type TransmitResult = { ok: true } | { ok: false; error: 'busy' | 'too-large' | 'too-small' | 'link-down' | 'stopped' };

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
  /** Sends one Ethernet frame (destination MAC first, no FCS); the frame is copied before it returns. */
  transmit(frame: Uint8Array): TransmitResult;
  /**
   * Calls `listener` with each received frame. The view is valid only during the call (the buffer goes
   * back to the device afterwards): copy what you keep. While anyone listens, the service keeps running.
   */
  onReceive(listener: (frame: Uint8Array) => void): () => void;
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
  }
}

/** Listener bookkeeping every driver needs; drivers extend it and call the `emit*` methods. */
export abstract class NicBase implements Nic {
  abstract readonly driver: string;
  abstract readonly device: PciDevice | undefined;
  abstract readonly mac: Uint8Array;
  abstract readonly mtu: number;
  abstract readonly linkUp: boolean;
  abstract transmit(frame: Uint8Array): TransmitResult;
  readonly stats: NicStats;
  private readonly receivers = new Set<(frame: Uint8Array) => void>();
  /** The receivers as an array, rebuilt on change: iterating a Set allocates, and this runs per frame. */
  private receiverList: ((frame: Uint8Array) => void)[] = [];
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

  onReceive(listener: (frame: Uint8Array) => void): () => void {
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

  onWritable(listener: () => void): () => void {
    this.writable.add(listener);
    return () => this.writable.delete(listener);
  }

  onLinkChange(listener: (up: boolean) => void): () => void {
    this.link.add(listener);
    return () => this.link.delete(listener);
  }

  /** A received frame: counted, then handed to every listener (dropped and counted when nobody listens). */
  protected emitReceive(frame: Uint8Array): void {
    this.stats.rxPackets.increment();
    this.stats.rxBytes.increment(frame.length);
    const list = this.receiverList;
    if (!list.length) {
      this.stats.rxDropped.increment();
      return;
    }
    for (let i = 0; i < list.length; i++) list[i]!(frame);
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
