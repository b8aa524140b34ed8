import { BUFFER_OVERHEAD_BYTES, type MemoryAccount } from '../memory.js';
import { type MacAddress, macFromBytes } from '../wire/address.js';
import { ETHERNET_HEADER_LENGTH, EtherTypeValue, VLAN_TAG_LENGTH } from '../wire/ethernet.js';
import { type LinkDevice, type LinkFrameInfo, LinkGso, type LinkOffloads, NO_LINK_OFFLOADS, plainFrameInfo } from './link-device.js';
import { type LayerStats, type StatScope, layerStats, statScope, u64Words } from '../stat-names.js';

/** A frame's payload (after the Ethernet header and any tag) and its offload information (valid during the call). */
export type FrameHandler = (payload: Uint8Array, info: LinkFrameInfo) => void;

const QUEUE_LIMIT = 512;
const NO_FRAME = new Uint8Array(0);

/** What a frame from a device that gives no information carries: nothing offloaded. */
const PLAIN: LinkFrameInfo = Object.freeze(plainFrameInfo());

/** A frame waiting for the device, with a copy of the offloads it asked for. */
interface Queued {
  frame: Uint8Array;
  info: LinkFrameInfo | undefined;
}

/** What a frame waiting for the device is charged: its bytes and its array. */
const queuedCost = (frame: Uint8Array): number => frame.length + BUFFER_OVERHEAD_BYTES;

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
  /** What the device offloads (`NO_LINK_OFFLOADS` when it says nothing). */
  readonly offloads: LinkOffloads;
  private readonly handlers = new Map<number, FrameHandler>();
  /** IPv4's handler, looked up without the Map: nearly every frame is IPv4. */
  private ipv4: FrameHandler | undefined;
  /** Our MAC address's six bytes, compared with each frame's destination without building a number. */
  private readonly macBytes: Uint8Array;
  /**
   * The destination and source addresses of the last frame sent, as its first 12 bytes: most frames go
   * where the last one went, and a MAC address is a 48-bit double, whose bytes take the engine's slow
   * paths to split. Worked out again when the destination changes (-1: none yet).
   */
  private readonly addresses = new Uint8Array(12);
  private addressesFor = -1;
  private readonly batchEndListeners: (() => void)[] = [];
  private readonly queue: Queued[] = [];
  /** The frames `allocate` lends, the last asked for first (empty until then). */
  private recentFrame: Uint8Array = NO_FRAME;
  private olderFrame: Uint8Array = NO_FRAME;
  private queueHead = 0;
  private readonly unsubscribe: (() => void)[] = [];
  /** rx_frames and tx_frames, counted inline per frame (see `u64Words`): the words and their low words' indexes. */
  private readonly counters: Uint32Array;
  private readonly rxFramesAt: number;
  private readonly txFramesAt: number;
  /** Frames waiting for the device are charged here (the memory budget), and dropped when it cannot pay. */
  private readonly memory: MemoryAccount | undefined;

  constructor(
    readonly device: LinkDevice,
    readonly scope: StatScope = statScope(device.name),
    options: { vlan?: number; memory?: MemoryAccount } = {},
  ) {
    this.memory = options.memory;
    this.mac = macFromBytes(device.mac);
    this.vlan = options.vlan;
    this.headerLength = this.vlan === undefined ? ETHERNET_HEADER_LENGTH : ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
    this.stats = layerStats(scope, 'ethernet');
    this.counters = u64Words(this.stats.rx_frames);
    this.rxFramesAt = this.stats.rx_frames.index;
    this.txFramesAt = this.stats.tx_frames.index;
    this.offloads = device.offloads ?? NO_LINK_OFFLOADS;
    this.macBytes = device.mac.slice(0, 6);
    this.addresses.set(this.macBytes, 6);
    this.unsubscribe.push(device.onReceive(this.receive));
    this.unsubscribe.push(device.onWritable(() => this.flush()));
    const batchEnd = device.onReceiveBatchEnd?.(() => this.endBatch());
    if (batchEnd) this.unsubscribe.push(batchEnd);
  }

  /** Whether the device tells when a batch of received frames ended (else layers act after every frame). */
  get batchesEnd(): boolean {
    return this.device.onReceiveBatchEnd !== undefined;
  }

  /** Called after each batch of received frames (`batchesEnd`), for work held back until then. */
  onBatchEnd(listener: () => void): void {
    this.batchEndListeners.push(listener);
  }

  private endBatch(): void {
    const listeners = this.batchEndListeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]!();
  }

  /** The largest payload a frame carries. */
  get mtu(): number {
    return this.device.mtu;
  }

  on(etherType: number, handler: FrameHandler): void {
    this.handlers.set(etherType, handler);
    if (etherType === EtherTypeValue.ipv4) this.ipv4 = handler;
  }

  /**
   * One frame in. The header is read straight from the bytes (no packet object, no getters): this runs
   * for every frame, and in the image's interpreter each call costs microseconds.
   */
  private readonly receive = (frame: Uint8Array, given?: LinkFrameInfo): void => {
    const info = given === undefined ? PLAIN : given;
    const counters = this.counters;
    if (++counters[this.rxFramesAt]! === 0x100000000) counters[this.rxFramesAt + 1]!++; // rx_frames
    const length = frame.length;
    if (length < ETHERNET_HEADER_LENGTH) {
      this.stats.rx_dropped.increment();
      return;
    }
    // Ours, broadcast or multicast (the group bit): anything else a promiscuous link shows us is not.
    const mac = this.macBytes;
    if (
      !(frame[0]! & 1) &&
      (frame[0] !== mac[0] ||
        frame[1] !== mac[1] ||
        frame[2] !== mac[2] ||
        frame[3] !== mac[3] ||
        frame[4] !== mac[4] ||
        frame[5] !== mac[5])
    ) {
      this.stats.rx_dropped.increment();
      return;
    }
    // No station sends from a group address.
    if (frame[6]! & 1) {
      this.stats.rx_bad_source.increment();
      return;
    }
    let etherType = (frame[12]! << 8) | frame[13]!;
    let header = ETHERNET_HEADER_LENGTH;
    let vlan = 0;
    if (etherType === EtherTypeValue.vlan) {
      if (length < ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH) {
        this.stats.rx_dropped.increment();
        return;
      }
      vlan = ((frame[14]! << 8) | frame[15]!) & 0x0fff;
      etherType = (frame[16]! << 8) | frame[17]!;
      header = ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
    }
    // VLAN 0 is a priority tag on an untagged frame (IEEE 802.1Q).
    if ((vlan || undefined) !== this.vlan) {
      this.stats.rx_wrong_vlan.increment();
      return;
    }
    // Longer than the MTU only as TCP segments the device coalesced.
    if (length - header > this.device.mtu && info.gsoType === LinkGso.none) {
      this.stats.rx_too_long.increment();
      return;
    }
    const handler = etherType === EtherTypeValue.ipv4 ? this.ipv4 : this.handlers.get(etherType);
    if (!handler) {
      this.stats.rx_dropped.increment();
      return;
    }
    handler(frame.subarray(header), info);
  };

  /**
   * A zeroed frame with room for `payloadLength` bytes after the header (at `headerLength`); the header
   * is written by `send`. The frame is this layer's, lent until the next `allocate`: it is filled and
   * sent at once (a device copies or consumes it inside `transmit`, and a frame that has to wait, here
   * or for ARP, waits as a copy), so the frames of the two lengths last asked for are reused rather than
   * allocated for every packet (a stream's full segments and its ACKs).
   */
  allocate(payloadLength: number): Uint8Array {
    const length = this.headerLength + payloadLength;
    const recent = this.recentFrame;
    if (recent.length === length) return recent.fill(0);
    const older = this.olderFrame;
    this.olderFrame = recent;
    if (older.length === length) {
      this.recentFrame = older;
      return older.fill(0);
    }
    const frame = new Uint8Array(length);
    this.recentFrame = frame;
    return frame;
  }

  /**
   * Writes the Ethernet header into `frame` and sends it (or queues a copy while the device is busy), with
   * the offloads `info` asks for (the caller checked `offloads`). `frame` is the caller's again on return.
   */
  send(frame: Uint8Array, destination: MacAddress, etherType: number, info?: LinkFrameInfo): boolean {
    // Destination, source (our address), [802.1Q tag], EtherType: written inline, no repr object.
    const addresses = this.addresses;
    if (destination !== this.addressesFor) {
      const high = Math.floor(destination / 0x100000000);
      const low = destination >>> 0;
      addresses[0] = high >>> 8;
      addresses[1] = high & 0xff;
      addresses[2] = low >>> 24;
      addresses[3] = (low >>> 16) & 0xff;
      addresses[4] = (low >>> 8) & 0xff;
      addresses[5] = low & 0xff;
      this.addressesFor = destination;
    }
    frame.set(addresses, 0);
    let at = 12;
    if (this.vlan !== undefined) {
      frame[12] = EtherTypeValue.vlan >> 8;
      frame[13] = EtherTypeValue.vlan & 0xff;
      frame[14] = (this.vlan >> 8) & 0x0f;
      frame[15] = this.vlan & 0xff;
      at = 16;
    }
    frame[at] = etherType >> 8;
    frame[at + 1] = etherType & 0xff;
    if (this.queue.length > this.queueHead) return this.enqueue(frame, info);
    const result = this.device.transmit(frame, info);
    if (result.ok) {
      const counters = this.counters;
      if (++counters[this.txFramesAt]! === 0x100000000) counters[this.txFramesAt + 1]!++; // tx_frames
      return true;
    }
    if (result.error === 'busy') return this.enqueue(frame, info);
    this.stats.tx_dropped.increment();
    return false;
  }

  private enqueue(frame: Uint8Array, info: LinkFrameInfo | undefined): boolean {
    if (this.queue.length - this.queueHead >= QUEUE_LIMIT || (this.memory && !this.memory.reserve(queuedCost(frame)))) {
      this.stats.tx_dropped.increment();
      return false;
    }
    // The caller may reuse its frame (see `allocate`) and its info object: the queue keeps copies.
    this.queue.push({ frame: frame.slice(), info: info === undefined ? undefined : { ...info } });
    this.stats.tx_queued.increment();
    return true;
  }

  private flush(): void {
    while (this.queueHead < this.queue.length) {
      const queued = this.queue[this.queueHead]!;
      const frame = queued.frame;
      const result = this.device.transmit(frame, queued.info);
      if (!result.ok && result.error === 'busy') break;
      if (result.ok) this.stats.tx_frames.increment();
      else this.stats.tx_dropped.increment();
      this.memory?.release(queuedCost(frame));
      this.queueHead++;
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    if (this.memory) for (let i = this.queueHead; i < this.queue.length; i++) this.memory.release(queuedCost(this.queue[i]!.frame));
    this.queue.length = 0;
    this.queueHead = 0;
  }
}
