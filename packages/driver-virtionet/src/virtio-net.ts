import { type FrameInfo, GsoType, MsixTable, NicBase, type NicOffloads, type PciDevice, type TransmitResult, routeIntx } from '@uos/hw';
import { irq } from '@uos/kernel';
import { VirtioNetError } from './errors.js';
import { type NegotiationOptions, VirtioNetFeature, bit, negotiate } from './features.js';
import { type ReceiveDrop, ReceiveRing } from './receive-ring.js';
import { TRANSMIT_SLOT_SIZE, TransmitRing } from './transmit-ring.js';
import { DeviceStatus, NO_VECTOR, type VirtioTransport, openTransport } from './transport.js';
import { Virtqueue } from './virtqueue.js';

export { VirtioNetFeature } from './features.js';

/** transmit() answers with shared objects: no allocation per frame. */
const SENT: TransmitResult = Object.freeze({ ok: true });
const BUSY: TransmitResult = Object.freeze({ ok: false, error: 'busy' });
const LINK_DOWN: TransmitResult = Object.freeze({ ok: false, error: 'link-down' });
const TOO_SMALL: TransmitResult = Object.freeze({ ok: false, error: 'too-small' });
const TOO_LARGE: TransmitResult = Object.freeze({ ok: false, error: 'too-large' });

const RECEIVE_QUEUE = 0;
const TRANSMIT_QUEUE = 1;
const MAX_QUEUE_SIZE = 256;
const ETHERNET_HEADER = 14;
/** An 802.1Q tag may precede the EtherType of a received frame. */
const VLAN_TAG = 4;
const LINK_UP = 1;
/** MSI-X table entries: configuration changes, receive, transmit. */
const MSIX_CONFIG = 0;
const MSIX_RECEIVE = 1;
const MSIX_TRANSMIT = 2;

export interface VirtioNetOptions extends NegotiationOptions {
  /** Use the legacy interface even when the modern one is offered (tests). */
  preferLegacy?: boolean;
}

/**
 * A virtio network device. Receive buffers are kept posted (the ring is refilled as frames are taken,
 * every frame of an interrupt in one pass, then `onReceiveBatchEnd`); transmit copies each frame behind
 * its virtio header into one ring slot, or a chain of them for a segment the device cuts up (TSO), and
 * tells the device once per batch of synchronous sends; completed slots are reclaimed as the device
 * returns them. Checksum and segmentation offloads, and event indices, are used when the device offers
 * them (`offloads` says which). Interrupts come by MSI-X (one vector each for configuration, receive and
 * transmit) or, without it, through INTx and the ISR register.
 */
export class VirtioNet extends NicBase {
  readonly driver = 'virtio-net';
  readonly mac: Uint8Array;
  readonly mtu = 1500;
  readonly transport: VirtioTransport['kind'];
  readonly interruptMode: 'msix' | 'intx';
  readonly features: bigint;
  override readonly offloads: NicOffloads;
  private linkState = true;
  private readonly io: VirtioTransport;
  private readonly receiveQueue: Virtqueue;
  private readonly transmitQueue: Virtqueue;
  private readonly receiveRing: ReceiveRing;
  private readonly transmitRing: TransmitRing;
  private readonly headerSize: number;
  private readonly eventIndex: boolean;
  private notifyScheduled = false;
  /** Frames are being taken from the receive ring (sends are then flushed by the receive pass). */
  private receiving = false;
  /** Frames were put in the transmit ring during the receive pass, not yet published. */
  private transmitHeld = false;
  private waitingForRoom = false;

  constructor(
    readonly device: PciDevice,
    name: string,
    options: VirtioNetOptions = {},
  ) {
    super(name);
    device.enable({ memory: true, io: true, busMaster: true });
    const transport = openTransport(device, { preferLegacy: options.preferLegacy ?? false });
    this.io = transport;
    this.transport = transport.kind;
    transport.reset();
    transport.addStatus(DeviceStatus.acknowledge);
    transport.addStatus(DeviceStatus.driver);
    const offered = transport.deviceFeatures();
    if (transport.kind === 'modern' && !(offered & bit(VirtioNetFeature.version1))) {
      transport.addStatus(DeviceStatus.failed);
      throw new VirtioNetError('virtio-features', `${device}: the modern interface does not offer VERSION_1`);
    }
    const negotiated = negotiate(offered, transport.kind === 'legacy', options);
    this.features = negotiated.features;
    this.offloads = negotiated.offloads;
    this.eventIndex = negotiated.eventIndex;
    transport.setDriverFeatures(this.features);
    if (transport.kind === 'modern') {
      transport.addStatus(DeviceStatus.featuresOk);
      if (!(transport.status() & DeviceStatus.featuresOk)) {
        transport.addStatus(DeviceStatus.failed);
        throw new VirtioNetError('virtio-features', `${device} refused the features ${this.features.toString(16)}`);
      }
    }
    // The 12-byte header (with num_buffers) under VERSION_1 or mergeable buffers, else the legacy 10 bytes.
    const mergeable = (this.features & bit(VirtioNetFeature.mergeableRxBuffers)) !== 0n;
    this.headerSize = mergeable || this.features & bit(VirtioNetFeature.version1) ? 12 : 10;

    const size = (index: number): number => {
      const offeredSize = transport.queueSize(index);
      if (!offeredSize) throw new VirtioNetError('virtio-queue', `${device} has no queue ${index}`);
      return transport.queueSizeFixed ? offeredSize : Math.min(offeredSize, MAX_QUEUE_SIZE);
    };
    this.receiveQueue = new Virtqueue(RECEIVE_QUEUE, size(RECEIVE_QUEUE));
    this.transmitQueue = new Virtqueue(TRANSMIT_QUEUE, size(TRANSMIT_QUEUE));
    this.receiveQueue.eventIndex = this.eventIndex;
    this.transmitQueue.eventIndex = this.eventIndex;
    this.transmitRing = new TransmitRing(this.transmitQueue, this.headerSize);

    this.interruptMode = this.setUpInterrupts(device, transport);

    this.mac = new Uint8Array(6);
    if (this.features & bit(VirtioNetFeature.mac)) {
      for (let i = 0; i < 6; i++) this.mac[i] = transport.configRead8(i);
    } else {
      crypto.getRandomValues(this.mac);
      this.mac[0] = (this.mac[0]! & 0xfe) | 0x02; // unicast, locally administered
    }
    this.linkState = this.readLink();

    // Every receive buffer goes to the device at once: descriptor i is buffer i.
    this.receiveRing = new ReceiveRing(this.receiveQueue, this.headerSize, mergeable, ETHERNET_HEADER + VLAN_TAG + 65535);
    // Transmit completions need no interrupt of their own (slots are reclaimed when a send needs them)
    // until a send finds the ring full; receive interrupts at the next frame.
    if (this.eventIndex) this.transmitQueue.interruptAfter(0x8000);
    this.receiveQueue.interruptAfter(1);
    transport.addStatus(DeviceStatus.driverOk);
    if (this.receiveQueue.publish()) transport.notify(RECEIVE_QUEUE);
  }

  get linkUp(): boolean {
    return this.linkState;
  }

  private readLink(): boolean {
    return this.features & bit(VirtioNetFeature.status) ? Boolean(this.io.configRead16(6) & LINK_UP) : true;
  }

  /** MSI-X when the device has three entries and takes them; INTx otherwise. Sets up both queues. */
  private setUpInterrupts(device: PciDevice, transport: VirtioTransport & { msixEnabled?: boolean }): 'msix' | 'intx' {
    const msix = MsixTable.open(device);
    if (msix && msix.size >= 3) {
      const vectors = msix.enableVectors(3);
      transport.msixEnabled = true;
      if (transport.setConfigVector(MSIX_CONFIG)) {
        if (!transport.setupQueue(this.receiveQueue, MSIX_RECEIVE) || !transport.setupQueue(this.transmitQueue, MSIX_TRANSMIT)) {
          transport.addStatus(DeviceStatus.failed);
          throw new VirtioNetError('virtio-msix', `${device} took the MSI-X configuration vector but not the queue vectors`);
        }
        irq.subscribe(vectors[MSIX_CONFIG]!, () => this.configurationChanged());
        irq.subscribe(vectors[MSIX_RECEIVE]!, () => {
          const stats = this.stats;
          if (++stats.words[stats.interruptsAt]! === 0x100000000) stats.words[stats.interruptsAt + 1]!++;
          this.receive();
        });
        irq.subscribe(vectors[MSIX_TRANSMIT]!, () => {
          this.stats.interrupts.increment();
          this.reclaim();
        });
        return 'msix';
      }
      // The device would not take a vector: back to INTx before any queue is set up.
      msix.disable();
      irq.free(vectors[0]!, vectors.length);
      transport.msixEnabled = false;
    }
    transport.setConfigVector(NO_VECTOR);
    transport.setupQueue(this.receiveQueue, NO_VECTOR);
    transport.setupQueue(this.transmitQueue, NO_VECTOR);
    const vector = routeIntx(device);
    irq.subscribe(vector, () => {
      // Reading the ISR acknowledges the interrupt (and deasserts the shared line).
      const status = transport.interruptStatus();
      if (!status) return;
      this.stats.interrupts.increment();
      if (status & 1) {
        this.receive();
        this.reclaim();
      }
      if (status & 2) this.configurationChanged();
    });
    return 'intx';
  }

  private configurationChanged(): void {
    const up = this.readLink();
    if (up !== this.linkState) {
      this.linkState = up;
      this.emitLinkChange(up);
    }
  }

  /** emitReceive bound (no arrow around it: one interpreted frame less per frame received). */
  private readonly deliver: (frame: Uint8Array, info: FrameInfo) => void = this.emitReceive.bind(this);
  private readonly countDropped = (_why: ReceiveDrop): void => this.stats.rxDropped.increment();

  /**
   * Takes every frame the device filled, hands them on, gives the buffers back, then ends the batch.
   * Frames the stack sent while taking them (an echo reply, an ACK) go to the device first, before the
   * buffers are published and the interrupt re-armed: the answer's latency is not the bookkeeping's.
   */
  private receive(): void {
    const queue = this.receiveQueue;
    let frames = 0;
    this.receiving = true;
    try {
      do {
        const invalid = queue.invalidEntries;
        frames += this.receiveRing.take(this.receiveInfo, this.deliver, this.countDropped);
        for (let i = invalid; i < queue.invalidEntries; i++) this.stats.rxDropped.increment();
        this.flushHeld();
        if (queue.publish()) this.io.notify(RECEIVE_QUEUE);
        // Interrupt at the next frame; frames that came meanwhile (their interrupt suppressed) are taken now.
      } while (queue.interruptAfter(1));
    } finally {
      // A receiver that threw still leaves the device told about what was sent.
      this.receiving = false;
      this.flushHeld();
    }
    if (frames) this.emitReceiveBatchEnd();
  }

  /** Sends held back during the receive pass go to the device now. */
  private flushHeld(): void {
    if (this.transmitHeld) {
      this.transmitHeld = false;
      this.flushTransmit();
    }
  }

  /** Frees the transmit slots the device is done with. */
  private reclaim(): void {
    const queue = this.transmitQueue;
    const invalid = queue.invalidEntries;
    this.transmitRing.reclaim();
    for (let i = invalid; i < queue.invalidEntries; i++) this.stats.txErrors.increment();
    if (this.waitingForRoom && queue.freeCount > 0) {
      this.waitingForRoom = false;
      if (this.eventIndex) queue.interruptAfter(0x8000);
      this.emitWritable();
    }
  }

  /** Whether this NIC can send `frame` with `info` (segmentation only with TSO for its IP version). */
  private tooLarge(frame: Uint8Array, info: FrameInfo | undefined): boolean {
    const gso = info === undefined ? GsoType.none : info.gsoType;
    if (gso === GsoType.none) return frame.length > ETHERNET_HEADER + this.mtu;
    const supported = gso === GsoType.tcp4 ? this.offloads.tso4 : gso === GsoType.tcp6 ? this.offloads.tso6 : false;
    return !supported || frame.length > ETHERNET_HEADER + this.offloads.tsoMaxBytes;
  }

  transmit(frame: Uint8Array, info?: FrameInfo): TransmitResult {
    if (!this.linkState) return LINK_DOWN;
    if (frame.length < ETHERNET_HEADER) return TOO_SMALL;
    // A plain frame (no offloads asked: an echo reply, an ARP answer) is checked inline.
    if (info === undefined ? frame.length > ETHERNET_HEADER + this.mtu : this.tooLarge(frame, info)) return TOO_LARGE;
    // A checksum the device cannot fill in would go out wrong: without CSUM the stack sums in software.
    const offload = info !== undefined && this.offloads.checksumTx ? info : undefined;
    const queue = this.transmitQueue;
    // A frame up to the MTU fits one slot: counted inline, no call (and no Math.ceil) per frame.
    const ring = this.transmitRing;
    const slots = ring.headerSize + frame.length <= TRANSMIT_SLOT_SIZE ? 1 : ring.slotsFor(frame.length);
    if (queue.freeCount < slots) {
      this.reclaim();
      // An interrupt when the device returns the next chain; if one came back meanwhile, take it now.
      if (queue.freeCount < slots && queue.interruptAfter(1)) this.reclaim();
      if (queue.freeCount < slots) {
        this.stats.txBusy.increment();
        this.waitingForRoom = true;
        return BUSY;
      }
    }
    ring.put(frame, offload, slots);
    // tx_packets and tx_bytes added to inline (NicStats.words): this runs for every frame sent.
    const stats = this.stats;
    const words = stats.words;
    if (++words[stats.txPacketsAt]! === 0x100000000) words[stats.txPacketsAt + 1]!++;
    const bytes = words[stats.txBytesAt]! + frame.length;
    words[stats.txBytesAt] = bytes;
    if (bytes > 0xffffffff) words[stats.txBytesAt + 1]!++;
    if (this.receiving) {
      // Sent while frames are being taken: the receive pass tells the device once they all are.
      this.transmitHeld = true;
    } else if (!this.notifyScheduled) {
      // One notification for every frame sent in this turn of the JS code.
      this.notifyScheduled = true;
      queueMicrotask(this.flushTransmit);
    }
    return SENT;
  }

  /** Publishes the frames put in the transmit ring and tells the device when it wants to be told. */
  private readonly flushTransmit = (): void => {
    this.notifyScheduled = false;
    if (this.transmitQueue.publish()) this.io.notify(TRANSMIT_QUEUE);
  };
}
