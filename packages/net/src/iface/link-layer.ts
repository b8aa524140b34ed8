import { type MacAddress, macFromBytes } from '../wire/address.js';
import { ETHERNET_HEADER_LENGTH, EthernetPacket, emitEthernet, etherTypeOf } from '../wire/ethernet.js';
import type { LinkDevice } from './link-device.js';
import { type LayerStats, type StatScope, layerStats, statScope } from '../stat-names.js';

export type FrameHandler = (source: MacAddress, payload: Uint8Array) => void;

const QUEUE_LIMIT = 512;

/**
 * Ethernet for one device: frames in, dispatched by EtherType; frames out, with a bounded queue for the
 * moments the device is busy (flushed when it says it is writable; beyond the bound frames are dropped
 * and counted, never queued without limit).
 */
export class LinkLayer {
  readonly mac: MacAddress;
  readonly stats: LayerStats<'ethernet'>;
  private readonly handlers = new Map<number, FrameHandler>();
  private readonly queue: Uint8Array[] = [];
  private queueHead = 0;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    readonly device: LinkDevice,
    readonly scope: StatScope = statScope(device.name),
  ) {
    this.mac = macFromBytes(device.mac);
    this.stats = layerStats(scope, 'ethernet');
    this.unsubscribe.push(device.onReceive((frame) => this.receive(frame)));
    this.unsubscribe.push(device.onWritable(() => this.flush()));
  }

  /** The largest payload a frame carries. */
  get mtu(): number {
    return this.device.mtu;
  }

  on(etherType: number, handler: FrameHandler): void {
    this.handlers.set(etherType, handler);
  }

  private receive(frame: Uint8Array): void {
    this.stats.rx_frames.increment();
    const checked = EthernetPacket.checked(frame);
    if (!checked.ok) {
      this.stats.rx_dropped.increment();
      return;
    }
    const packet = checked.value;
    const destination = packet.destination;
    // Ours, broadcast or multicast: anything else a promiscuous link shows us is not.
    if (destination !== this.mac && !(Math.floor(destination / 0x10000000000) & 1)) {
      this.stats.rx_dropped.increment();
      return;
    }
    const handler = this.handlers.get(packet.etherType);
    if (!handler) {
      this.stats.rx_dropped.increment();
      return;
    }
    handler(packet.source, packet.payload);
  }

  /** A frame with room for `payloadLength` bytes after the header; the header is written by `send`. */
  allocate(payloadLength: number): Uint8Array {
    return new Uint8Array(ETHERNET_HEADER_LENGTH + payloadLength);
  }

  /** Writes the Ethernet header into `frame` and sends it (or queues it while the device is busy). */
  send(frame: Uint8Array, destination: MacAddress, etherType: number): boolean {
    emitEthernet({ destination, source: this.mac, etherType: etherTypeOf(etherType) }, frame);
    if (this.queue.length > this.queueHead) return this.enqueue(frame);
    const result = this.device.transmit(frame);
    if (result.ok) {
      this.stats.tx_frames.increment();
      return true;
    }
    if (result.error === 'busy') return this.enqueue(frame);
    this.stats.tx_dropped.increment();
    return false;
  }

  private enqueue(frame: Uint8Array): boolean {
    if (this.queue.length - this.queueHead >= QUEUE_LIMIT) {
      this.stats.tx_dropped.increment();
      return false;
    }
    this.queue.push(frame);
    this.stats.tx_queued.increment();
    return true;
  }

  private flush(): void {
    while (this.queueHead < this.queue.length) {
      const result = this.device.transmit(this.queue[this.queueHead]!);
      if (!result.ok && result.error === 'busy') break;
      if (result.ok) this.stats.tx_frames.increment();
      else this.stats.tx_dropped.increment();
      this.queueHead++;
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    this.queue.length = 0;
    this.queueHead = 0;
  }
}
