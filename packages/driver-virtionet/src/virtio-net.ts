import { DmaPool, MsixTable, NicBase, type PciDevice, type TransmitResult, routeIntx } from '@uos/hw';
import { irq } from '@uos/kernel';
import { DeviceStatus, NO_VECTOR, type VirtioTransport, openTransport } from './transport.js';
import { DescriptorFlag, Virtqueue } from './virtqueue.js';
import { VirtioNetError } from './errors.js';

/** Feature bits (virtio 1.x §5.1.3 and §6). */
export const VirtioNetFeature = {
  csum: 0n,
  guestCsum: 1n,
  mtu: 3n,
  mac: 5n,
  mergeableRxBuffers: 15n,
  status: 16n,
  eventIndex: 29n,
  version1: 32n,
} as const;
const bit = (n: bigint): bigint => 1n << n;

/** The features uOS asks for; checksum offload and event indices stay off. */
const WANTED =
  bit(VirtioNetFeature.mac) | bit(VirtioNetFeature.status) | bit(VirtioNetFeature.mergeableRxBuffers) | bit(VirtioNetFeature.version1);

/** transmit() answers with shared objects: no allocation per frame. */
const SENT: TransmitResult = Object.freeze({ ok: true });
const BUSY: TransmitResult = Object.freeze({ ok: false, error: 'busy' });
const LINK_DOWN: TransmitResult = Object.freeze({ ok: false, error: 'link-down' });
const TOO_SMALL: TransmitResult = Object.freeze({ ok: false, error: 'too-small' });
const TOO_LARGE: TransmitResult = Object.freeze({ ok: false, error: 'too-large' });

const RECEIVE_QUEUE = 0;
const TRANSMIT_QUEUE = 1;
const MAX_QUEUE_SIZE = 256;
const BUFFER_SIZE = 2048;
const ETHERNET_HEADER = 14;
const LINK_UP = 1;
/** MSI-X table entries: configuration changes, receive, transmit. */
const MSIX_CONFIG = 0;
const MSIX_RECEIVE = 1;
const MSIX_TRANSMIT = 2;

export interface VirtioNetOptions {
  /** Use the legacy interface even when the modern one is offered (tests). */
  preferLegacy?: boolean;
}

/**
 * A virtio network device. Receive buffers are kept posted (the ring is refilled as frames are taken);
 * transmit copies each frame into a ring slot and tells the device once per batch of synchronous sends;
 * completed slots are reclaimed from the transmit interrupt. Interrupts come by MSI-X (one vector each for
 * configuration, receive and transmit) or, without it, through INTx and the ISR register.
 */
export class VirtioNet extends NicBase {
  readonly driver = 'virtio-net';
  readonly mac: Uint8Array;
  readonly mtu = 1500;
  readonly transport: VirtioTransport['kind'];
  readonly interruptMode: 'msix' | 'intx';
  readonly features: bigint;
  private linkState = true;
  private readonly io: VirtioTransport;
  private readonly receiveQueue: Virtqueue;
  private readonly transmitQueue: Virtqueue;
  private readonly receiveBuffers: DmaPool;
  private readonly transmitBuffers: DmaPool;
  private readonly headerSize: number;
  private notifyScheduled = false;
  private waitingForRoom = false;
  /** A frame spread over several receive buffers (mergeable buffers), being gathered. */
  private gathering: { parts: Uint8Array[]; left: number } | undefined;

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
    this.features = offered & (transport.kind === 'modern' ? WANTED : WANTED & 0xffffffffn);
    transport.setDriverFeatures(this.features);
    if (transport.kind === 'modern') {
      transport.addStatus(DeviceStatus.featuresOk);
      if (!(transport.status() & DeviceStatus.featuresOk)) {
        transport.addStatus(DeviceStatus.failed);
        throw new VirtioNetError('virtio-features', `${device} refused the features ${this.features.toString(16)}`);
      }
    }
    // The 12-byte header (with num_buffers) under VERSION_1 or mergeable buffers, else the legacy 10 bytes.
    this.headerSize = this.features & (bit(VirtioNetFeature.version1) | bit(VirtioNetFeature.mergeableRxBuffers)) ? 12 : 10;

    const size = (index: number): number => {
      const offeredSize = transport.queueSize(index);
      if (!offeredSize) throw new VirtioNetError('virtio-queue', `${device} has no queue ${index}`);
      return transport.queueSizeFixed ? offeredSize : Math.min(offeredSize, MAX_QUEUE_SIZE);
    };
    this.receiveQueue = new Virtqueue(RECEIVE_QUEUE, size(RECEIVE_QUEUE));
    this.transmitQueue = new Virtqueue(TRANSMIT_QUEUE, size(TRANSMIT_QUEUE));
    this.receiveBuffers = new DmaPool(BUFFER_SIZE, this.receiveQueue.size);
    this.transmitBuffers = new DmaPool(BUFFER_SIZE, this.transmitQueue.size);
    for (let id = 0; id < this.transmitQueue.size; id++) {
      this.transmitQueue.setDescriptor(id, this.transmitBuffers.buffer(id).address, 0, 0);
    }

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
    for (let id = 0; id < this.receiveQueue.size; id++) {
      this.receiveQueue.takeDescriptor();
      this.receiveQueue.setDescriptor(id, this.receiveBuffers.buffer(id).address, BUFFER_SIZE, DescriptorFlag.write);
      this.receiveQueue.offer(id);
    }
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
          this.stats.interrupts.increment();
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

  /** A used entry for a buffer the device does not hold: counted, never acted on. */
  private readonly countDropped = (): void => this.stats.rxDropped.increment();
  private readonly countTransmitError = (): void => this.stats.txErrors.increment();

  /** Takes every frame the device filled, hands it on, and gives the buffers back. */
  private receive(): void {
    const queue = this.receiveQueue;
    queue.drainUsed((id, length) => {
      const buffer = this.receiveBuffers.buffer(id).bytes;
      if (length > BUFFER_SIZE) {
        this.stats.rxDropped.increment();
        this.gathering = undefined;
      } else if (this.gathering) {
        this.gathering.parts.push(buffer.slice(0, length));
        if (--this.gathering.left === 0) this.deliverGathered();
      } else if (length < this.headerSize + ETHERNET_HEADER) {
        this.stats.rxDropped.increment();
      } else {
        const parts = this.headerSize === 12 ? buffer[10]! | (buffer[11]! << 8) : 1;
        if (parts <= 1) {
          this.emitReceive(buffer.subarray(this.headerSize, length));
        } else {
          this.gathering = { parts: [buffer.slice(this.headerSize, length)], left: parts - 1 };
        }
      }
      queue.offer(id);
    }, this.countDropped);
    if (queue.publish()) this.io.notify(RECEIVE_QUEUE);
  }

  private deliverGathered(): void {
    const parts = this.gathering!.parts;
    this.gathering = undefined;
    const frame = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      frame.set(p, at);
      at += p.length;
    }
    this.emitReceive(frame);
  }

  /** Frees the transmit slots the device is done with. */
  private reclaim(): void {
    const queue = this.transmitQueue;
    queue.drainUsed((id) => queue.returnDescriptor(id), this.countTransmitError);
    if (this.waitingForRoom && queue.freeCount > 0) {
      this.waitingForRoom = false;
      this.emitWritable();
    }
  }

  transmit(frame: Uint8Array): TransmitResult {
    if (!this.linkState) return LINK_DOWN;
    if (frame.length < ETHERNET_HEADER) return TOO_SMALL;
    if (frame.length > ETHERNET_HEADER + this.mtu || frame.length + this.headerSize > BUFFER_SIZE) return TOO_LARGE;
    const queue = this.transmitQueue;
    let id = queue.takeDescriptor();
    if (id === undefined) {
      this.reclaim();
      id = queue.takeDescriptor();
      if (id === undefined) {
        this.stats.txBusy.increment();
        this.waitingForRoom = true;
        return BUSY;
      }
    }
    const buffer = this.transmitBuffers.buffer(id);
    buffer.bytes.fill(0, 0, this.headerSize);
    buffer.bytes.set(frame, this.headerSize);
    // Transmit descriptor i always points at buffer i: only the length changes.
    queue.setDescriptorLength(id, this.headerSize + frame.length);
    queue.offer(id);
    this.stats.txPackets.increment();
    this.stats.txBytes.increment(frame.length);
    if (!this.notifyScheduled) {
      // One notification for every frame sent in this turn of the JS code.
      this.notifyScheduled = true;
      queueMicrotask(() => {
        this.notifyScheduled = false;
        if (queue.publish()) this.io.notify(TRANSMIT_QUEUE);
      });
    }
    return SENT;
  }
}
