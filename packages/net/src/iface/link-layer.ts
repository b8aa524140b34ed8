import { type MacAddress, macFromBytes } from '../wire/address.js';
import { ETHERNET_HEADER_LENGTH, EthernetPacket, VLAN_TAG_LENGTH, emitEthernet, etherTypeOf } from '../wire/ethernet.js';
import type { LinkDevice } from './link-device.js';
import { type LayerStats, type StatScope, layerStats, statScope } from '../stat-names.js';

export type FrameHandler = (source: MacAddress, payload: Uint8Array) => void;

const QUEUE_LIMIT = 512;

/** The group bit of a MAC address (broadcast and multicast), in its first octet. */
const isGroup = (mac: MacAddress): boolean => (Math.floor(mac / 0x10000000000) & 1) === 1;

/**
 * Ethernet for one device: frames in, dispatched by EtherType; frames out, with a bounded queue for the
 * moments the device is busy (flushed when it says it is writable; beyond the bound frames are dropped
 * and counted, never queued without limit).
 *
 * Frames in are dropped and counted when they are not for us (another unicast address), when their
 * source is a group address (no station sends from one), when their payload is longer than the MTU, or
 * when their 802.1Q tag names a VLAN this layer is not on: with `vlan` set only frames tagged with it are
 * taken (and frames out are tagged), without it only untagged and priority-tagged (VLAN 0) frames. More
 * than one LinkLayer may share a device, one per VLAN.
 */
export class LinkLayer {
  readonly mac: MacAddress;
  readonly stats: LayerStats<'ethernet'>;
  /** The 802.1Q VLAN this layer is on, or undefined for untagged frames. */
  readonly vlan: number | undefined;
  /** Bytes before the payload in frames this layer sends (14, or 18 with a VLAN tag). */
  readonly headerLength: number;
  private readonly handlers = new Map<number, FrameHandler>();
  private readonly queue: Uint8Array[] = [];
  private queueHead = 0;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    readonly device: LinkDevice,
    readonly scope: StatScope = statScope(device.name),
    options: { vlan?: number } = {},
  ) {
    this.mac = macFromBytes(device.mac);
    this.vlan = options.vlan;
    this.headerLength = this.vlan === undefined ? ETHERNET_HEADER_LENGTH : ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
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
    if (destination !== this.mac && !isGroup(destination)) {
      this.stats.rx_dropped.increment();
      return;
    }
    if (isGroup(packet.source)) {
      this.stats.rx_bad_source.increment();
      return;
    }
    // VLAN 0 is a priority tag on an untagged frame (IEEE 802.1Q).
    if ((packet.vlanId || undefined) !== this.vlan) {
      this.stats.rx_wrong_vlan.increment();
      return;
    }
    if (frame.length - packet.headerLength > this.device.mtu) {
      this.stats.rx_too_long.increment();
      return;
    }
    const handler = this.handlers.get(packet.etherType);
    if (!handler) {
      this.stats.rx_dropped.increment();
      return;
    }
    handler(packet.source, packet.payload);
  }

  /** A frame with room for `payloadLength` bytes after the header (at `headerLength`); the header is written by `send`. */
  allocate(payloadLength: number): Uint8Array {
    return new Uint8Array(this.headerLength + payloadLength);
  }

  /** Writes the Ethernet header into `frame` and sends it (or queues it while the device is busy). */
  send(frame: Uint8Array, destination: MacAddress, etherType: number): boolean {
    emitEthernet(
      {
        destination,
        source: this.mac,
        etherType: etherTypeOf(etherType),
        ...(this.vlan === undefined ? {} : { vlan: { id: this.vlan, priority: 0 } }),
      },
      frame,
    );
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
