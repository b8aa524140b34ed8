import {
  type DmaBuffer,
  DmaPool,
  MsiCapability,
  MsixTable,
  NicBase,
  PciCommand,
  type PciDevice,
  type RegisterWindow,
  type TransmitResult,
  allocateDma,
  routeIntx,
} from '@uos/hw';
import { eventLoop, irq } from '@uos/kernel';
import { Vmxnet3Error } from './errors.js';
import {
  Bar0,
  Bar1,
  Command,
  Event,
  INTERRUPT_CONTROL_DISABLE_ALL,
  MAX_INTERRUPTS,
  MAX_MTU,
  MAX_RING,
  RECEIVE_COUNTERS,
  RING_MULTIPLE,
  ReceiveQueue,
  Shared,
  TRANSMIT_COUNTERS,
  TransmitQueue,
} from './layout.js';
import { type ReceiveFault, ReceiveRing, TransmitRing } from './rings.js';
import { controlLayout, writeSharedArea } from './shared-area.js';
import { Vmxnet3Stats } from './stats.js';

export interface Vmxnet3Options {
  /** Which interrupts to use: the best the device offers (MSI-X, then MSI, then INTx), or one of them. */
  interrupts?: 'auto' | 'msix' | 'msi' | 'intx';
  /** Transmit descriptors: a multiple of 32 up to 4096. Default 256. */
  transmitRingSize?: number;
  /** Receive buffers: a multiple of 32 up to 4096. Default 512. */
  receiveRingSize?: number;
  /** Largest Ethernet payload, 68..9000. Default 1500. */
  mtu?: number;
}

/** The device's own counters (UPT1 statistics), as `deviceCounters()` reads them. */
export interface Vmxnet3DeviceCounters {
  transmit: Record<(typeof TRANSMIT_COUNTERS)[number], number>;
  receive: Record<(typeof RECEIVE_COUNTERS)[number], number>;
}

const DEFAULTS = { interrupts: 'auto', transmitRingSize: 256, receiveRingSize: 512, mtu: 1500 } as const;
const ETHERNET_HEADER = 14;
/** Interrupt indexes with MSI-X; with MSI or INTx the device has one interrupt and everything uses 0. */
const MSIX_EVENT = 0;
const MSIX_RECEIVE = 1;
const MSIX_TRANSMIT = 2;
/** More resets than this within a minute and the NIC stops instead of resetting again. */
const MAX_RESETS_PER_MINUTE = 5;

const SENT: TransmitResult = Object.freeze({ ok: true });
const BUSY: TransmitResult = Object.freeze({ ok: false, error: 'busy' });
const LINK_DOWN: TransmitResult = Object.freeze({ ok: false, error: 'link-down' });
const STOPPED: TransmitResult = Object.freeze({ ok: false, error: 'stopped' });
const TOO_SMALL: TransmitResult = Object.freeze({ ok: false, error: 'too-small' });
const TOO_LARGE: TransmitResult = Object.freeze({ ok: false, error: 'too-large' });

/** What the device's queue error codes mean (VMXNET3_ERR_*). */
const QUEUE_ERRORS: Record<number, string> = {
  0x80000000: 'no end-of-packet descriptor',
  0x80000001: 'a descriptor reused before its completion',
  0x80000002: 'too many descriptors for a packet',
  0x80000003: 'a descriptor type it does not support',
  0x80000004: 'a head buffer too small',
  0x80000005: 'a stress test',
  0x80000006: 'a mode switch failure',
  0x80000007: 'an invalid descriptor',
};

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function ringSize(value: number, what: string): number {
  if (!Number.isInteger(value) || value < RING_MULTIPLE || value > MAX_RING || value % RING_MULTIPLE) {
    throw new Vmxnet3Error('vmxnet3-configuration', `the ${what} ring size must be a multiple of 32 from 32 to 4096, not ${value}`);
  }
  return value;
}

/**
 * A VMware vmxnet3 NIC (PCI 15AD:07B0). One transmit and one receive queue, with completion rings and
 * generation bits; the receive ring is kept full (each buffer goes back as soon as its frame was handed
 * on); transmit copies each frame into its slot and tells the device once per batch of synchronous sends;
 * completions are reclaimed from the transmit interrupt, or at once when a send finds the ring full.
 * Interrupts: MSI-X (events, receive, transmit), else MSI, else INTx with the interrupt cause register;
 * the device masks an interrupt when it fires and the driver unmasks it once it has drained its ring.
 * A queue error or a completion that makes no sense resets and re-activates the device.
 */
export class Vmxnet3 extends NicBase {
  readonly driver = 'vmxnet3';
  readonly mac = new Uint8Array(6);
  readonly mtu: number;
  readonly interruptMode: 'msix' | 'msi' | 'intx';
  /** The driver's own counters (`<ifname>.vmxnet3.*`). */
  readonly driverStats: Vmxnet3Stats;
  private linkState = false;
  /** Whether the link was read once (the first reading sets it; later ones are changes). */
  private linkKnown = false;
  private speed = 0;
  private stopped = false;
  /** Whether the device was activated (and not reset since): BAR 0 only takes writes then. */
  private active = false;
  private readonly bar0: RegisterWindow;
  private readonly bar1: RegisterWindow;
  private readonly control: DmaBuffer;
  private readonly words: Uint32Array;
  private readonly view: DataView;
  private readonly transmitQueue: number;
  private readonly receiveQueue: number;
  private readonly transmitRing: TransmitRing;
  private readonly receiveRing: ReceiveRing;
  private readonly interruptCount: number;
  private producerScheduled = false;
  private waitingForRoom = false;
  private resets: number[] = [];
  /** Undoes the interrupt setup (a constructor that fails leaves nothing behind). */
  private readonly undo: (() => void)[] = [];

  constructor(
    readonly device: PciDevice,
    name: string,
    options: Vmxnet3Options = {},
  ) {
    super(name);
    this.driverStats = new Vmxnet3Stats(name);
    const o = { ...DEFAULTS, ...options };
    const transmitSize = ringSize(o.transmitRingSize, 'transmit');
    const receiveSize = ringSize(o.receiveRingSize, 'receive');
    if (!Number.isInteger(o.mtu) || o.mtu < 68 || o.mtu > MAX_MTU)
      throw new Vmxnet3Error('vmxnet3-configuration', `the MTU must be from 68 to ${MAX_MTU}, not ${o.mtu}`);
    this.mtu = o.mtu;
    const bufferSize = Math.ceil((this.mtu + ETHERNET_HEADER + 4) / 128) * 128;

    if (device.bars[0]?.kind !== 'mmio32' && device.bars[0]?.kind !== 'mmio64')
      throw new Vmxnet3Error('vmxnet3-bar', `${device} has no memory BAR 0 (the passthrough registers)`);
    if (device.bars[1]?.kind !== 'mmio32' && device.bars[1]?.kind !== 'mmio64')
      throw new Vmxnet3Error('vmxnet3-bar', `${device} has no memory BAR 1 (the device registers)`);
    device.enable({ memory: true, busMaster: true });
    this.bar0 = device.barWindow(0);
    this.bar1 = device.barWindow(1);

    // Revision 1 and UPT version 1: what every vmxnet3 speaks.
    const revisions = this.bar1.read32(Bar1.revisionReport);
    const versions = this.bar1.read32(Bar1.uptVersionReport);
    if (!(revisions & 1) || !(versions & 1)) {
      throw new Vmxnet3Error(
        'vmxnet3-version',
        `${device} supports neither revision 1 nor UPT version 1 (revisions ${hex(revisions)}, UPT versions ${hex(versions)})`,
      );
    }
    this.bar1.write32(Bar1.revisionReport, 1);
    this.bar1.write32(Bar1.uptVersionReport, 1);
    this.command(Command.reset);
    const low = this.bar1.read32(Bar1.macLow);
    const high = this.bar1.read32(Bar1.macHigh);
    this.mac.set([low & 0xff, (low >>> 8) & 0xff, (low >>> 16) & 0xff, low >>> 24, high & 0xff, (high >>> 8) & 0xff]);

    const layout = controlLayout(transmitSize, receiveSize);
    this.control = allocateDma(layout.size);
    const bytes = this.control.bytes;
    this.words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    this.view = this.control.view;
    this.transmitQueue = layout.transmitQueue;
    this.receiveQueue = layout.receiveQueue;
    this.transmitRing = new TransmitRing(
      this.words,
      layout.transmitDescriptors >> 2,
      layout.transmitCompletions >> 2,
      transmitSize,
      new DmaPool(bufferSize, transmitSize),
    );
    this.receiveRing = new ReceiveRing(
      this.words,
      layout.receiveDescriptors >> 2,
      layout.receiveCompletions >> 2,
      receiveSize,
      layout.receiveCompletionSize,
      new DmaPool(bufferSize, receiveSize),
      bufferSize,
    );

    try {
      this.interruptMode = this.setUpInterrupts(o.interrupts);
      this.interruptCount = this.interruptMode === 'msix' ? 3 : 1;
      const index = (msix: number): number => (this.interruptMode === 'msix' ? msix : 0);
      // QEMU aborts (and the VM with it) on an interrupt index beyond what the device has: check first.
      const interrupts = { event: index(MSIX_EVENT), receive: index(MSIX_RECEIVE), transmit: index(MSIX_TRANSMIT) };
      for (const i of Object.values(interrupts)) {
        if (i >= this.interruptCount || i >= MAX_INTERRUPTS)
          throw new Vmxnet3Error('vmxnet3-interrupts', `interrupt index ${i} is beyond the ${this.interruptCount} in use`);
      }
      writeSharedArea(this.view, this.control.address, layout, { mtu: this.mtu, interruptCount: this.interruptCount, interrupts });
      this.bringUp();
    } catch (error) {
      for (const step of this.undo.splice(0).reverse()) step();
      this.command(Command.reset);
      throw error;
    }
  }

  get linkUp(): boolean {
    return this.linkState;
  }

  /** The link speed the device reports, in Mbit/s (0 while the link is down). */
  get linkSpeedMbps(): number {
    return this.linkState ? this.speed : 0;
  }

  /** Whether the NIC gave up after repeated device errors (transmit then answers `stopped`). */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Asks the device for its own counters (frames and bytes it moved, frames it had no buffer for, errors). */
  deviceCounters(): Vmxnet3DeviceCounters {
    this.command(Command.getStats);
    const read = <K extends string>(names: readonly K[], at: number): Record<K, number> => {
      const counters = {} as Record<K, number>;
      names.forEach((name, i) => {
        counters[name] = this.view.getUint32(at + i * 8, true) + this.view.getUint32(at + i * 8 + 4, true) * 2 ** 32;
      });
      return counters;
    };
    return {
      transmit: read(TRANSMIT_COUNTERS, this.transmitQueue + TransmitQueue.stats),
      receive: read(RECEIVE_COUNTERS, this.receiveQueue + ReceiveQueue.stats),
    };
  }

  transmit(frame: Uint8Array): TransmitResult {
    if (this.stopped) return STOPPED;
    if (!this.linkState) return LINK_DOWN;
    if (frame.length < ETHERNET_HEADER) return TOO_SMALL;
    if (frame.length > ETHERNET_HEADER + this.mtu) return TOO_LARGE;
    const ring = this.transmitRing;
    if (ring.free === 0) {
      this.reclaim();
      if (ring.free === 0 || this.stopped) {
        this.stats.txBusy.increment();
        this.waitingForRoom = true;
        return this.stopped ? STOPPED : BUSY;
      }
    }
    ring.put(frame);
    this.words[(this.transmitQueue + TransmitQueue.numDeferred) >> 2]!++;
    this.stats.txPackets.increment();
    this.stats.txBytes.increment(frame.length);
    if (!this.producerScheduled) {
      // One doorbell for every frame sent in this turn of the JS code.
      this.producerScheduled = true;
      queueMicrotask(this.publishTransmits);
    }
    return SENT;
  }

  private readonly publishTransmits = (): void => {
    this.producerScheduled = false;
    if (this.stopped) return;
    this.words[(this.transmitQueue + TransmitQueue.numDeferred) >> 2] = 0;
    this.bar0.write32(Bar0.transmitProducer, this.transmitRing.producer);
  };

  private command(command: number): number {
    this.bar1.write32(Bar1.command, command);
    return this.bar1.read32(Bar1.command);
  }

  private unmask(index: number): void {
    if (!this.stopped && this.active) this.bar0.write32(Bar0.interruptMask + index * 8, 0);
  }

  /** MSI-X with three vectors when asked for or available, else MSI, else INTx; subscribes the handlers. */
  private setUpInterrupts(wanted: NonNullable<Vmxnet3Options['interrupts']>): 'msix' | 'msi' | 'intx' {
    try {
      return this.trySetUpInterrupts(wanted);
    } catch (error) {
      if (Vmxnet3Error.isInstance(error)) throw error;
      // Out of vectors, a broken MSI-X table, no routable line: said as this driver's error, with the cause.
      throw new Vmxnet3Error(
        'vmxnet3-interrupts',
        `${this.device}: no ${wanted === 'auto' ? '' : `${wanted} `}interrupts: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  private trySetUpInterrupts(wanted: NonNullable<Vmxnet3Options['interrupts']>): 'msix' | 'msi' | 'intx' {
    const device = this.device;
    const subscribe = (vector: number, handler: () => void): void => {
      this.undo.push(irq.subscribe(vector, handler));
    };
    if (wanted === 'auto' || wanted === 'msix') {
      const msix = MsixTable.open(device);
      if (msix && msix.size >= 3) {
        const vectors = msix.enableVectors(3);
        this.undo.push(() => {
          msix.disable();
          irq.free(vectors[0]!, vectors.length);
        });
        subscribe(vectors[MSIX_EVENT]!, () => this.onInterrupt(MSIX_EVENT, true, false, false));
        subscribe(vectors[MSIX_RECEIVE]!, () => this.onInterrupt(MSIX_RECEIVE, false, true, false));
        subscribe(vectors[MSIX_TRANSMIT]!, () => this.onInterrupt(MSIX_TRANSMIT, false, false, true));
        return 'msix';
      }
      if (wanted === 'msix')
        throw new Vmxnet3Error('vmxnet3-interrupts', `${device} has no MSI-X table with the 3 entries the driver needs`);
    }
    if (wanted === 'auto' || wanted === 'msi') {
      const msi = MsiCapability.open(device);
      if (msi) {
        const vector = msi.enableVector();
        this.undo.push(() => {
          msi.disable();
          irq.free(vector);
        });
        subscribe(vector, () => this.onInterrupt(0, true, true, true));
        return 'msi';
      }
      if (wanted === 'msi') throw new Vmxnet3Error('vmxnet3-interrupts', `${device} has no MSI capability`);
    }
    const vector = routeIntx(device);
    device.setCommand(0, PciCommand.interruptDisable);
    this.undo.push(() => irq.free(vector));
    subscribe(vector, () => {
      // The line may be shared: the interrupt cause register says whether it was this device (and reading it lowers the line).
      if (this.stopped || !this.bar1.read32(Bar1.interruptCause)) return;
      this.onInterrupt(0, true, true, true);
    });
    return 'intx';
  }

  private onInterrupt(index: number, events: boolean, receive: boolean, transmit: boolean): void {
    if (this.stopped) return;
    this.stats.interrupts.increment();
    if (events) this.handleEvents();
    if (receive) this.receive();
    if (transmit) this.reclaim();
    // The device masked the interrupt when it fired (auto-mask); whatever came since fires again now.
    this.unmask(index);
  }

  private handleEvents(): void {
    const at = Shared.eventCause >> 2;
    const events = this.words[at]!;
    if (!events || this.stopped) return;
    this.driverStats.events.increment();
    this.bar1.write32(Bar1.eventCause, events);
    if (events & Event.link) this.readLink();
    if (events & (Event.transmitQueueError | Event.receiveQueueError)) {
      this.command(Command.getQueueStatus);
      this.driverStats.queueErrors.increment();
      const problems: string[] = [];
      for (const [queue, name] of [
        [this.transmitQueue, 'transmit'],
        [this.receiveQueue, 'receive'],
      ] as const) {
        const error = this.view.getUint32(queue + TransmitQueue.error, true);
        if (this.view.getUint8(queue + TransmitQueue.stopped) || error)
          problems.push(`the ${name} queue stopped (error ${hex(error)}: ${QUEUE_ERRORS[error] ?? 'unknown'})`);
      }
      this.reset(problems.length ? problems.join(', ') : 'the device reported a queue error');
    }
  }

  private readLink(): void {
    const status = this.command(Command.getLink);
    const up = Boolean(status & 1);
    this.speed = status >>> 16;
    if (!this.linkKnown) {
      this.linkKnown = true;
      this.linkState = up;
    } else if (up !== this.linkState) {
      this.linkState = up;
      this.driverStats.linkChanges.increment();
      this.emitLinkChange(up);
    }
  }

  /** Hands on every frame the device completed and gives the buffers back. */
  private receive(): void {
    const taken = this.receiveRing.drain(this.deliver, this.fault);
    if (taken < 0) {
      this.reset('a receive completion named a descriptor out of turn');
      return;
    }
    if (taken && this.view.getUint8(this.receiveQueue + ReceiveQueue.updateProducer))
      this.bar0.write32(Bar0.receiveProducer, this.receiveRing.producer);
    if (taken) this.emitReceiveBatchEnd();
  }

  private readonly deliver = (frame: Uint8Array): void => this.emitReceive(frame);

  private readonly fault = (kind: ReceiveFault): void => {
    this.stats.rxDropped.increment();
    if (kind === 'error') this.driverStats.rxErrors.increment();
  };

  /** Frees the transmit slots the device completed. */
  private reclaim(): void {
    if (this.transmitRing.reclaim() < 0) {
      this.reset('a transmit completion named a descriptor the device does not hold');
      return;
    }
    if (this.waitingForRoom && this.transmitRing.free > 0) {
      this.waitingForRoom = false;
      this.emitWritable();
    }
  }

  /** Resets and re-activates the device after an error; frames in flight are lost (counted as tx_errors). */
  private reset(reason: string): void {
    const now = eventLoop().now();
    this.resets = this.resets.filter((t) => now - t < 60_000);
    this.resets.push(now);
    const lost = this.transmitRing.pending;
    if (lost) this.stats.txErrors.increment(lost);
    if (this.resets.length > MAX_RESETS_PER_MINUTE) {
      this.stop(`${reason}; ${this.resets.length} resets within a minute`);
      return;
    }
    console.log(`vmxnet3: ${this.name}: ${reason}; resetting the device`);
    this.driverStats.resets.increment();
    try {
      this.bringUp();
    } catch (error) {
      this.stop(`the device did not come back after a reset: ${(error as Error).message}`);
      return;
    }
    if (this.waitingForRoom) {
      this.waitingForRoom = false;
      this.emitWritable();
    }
  }

  private stop(reason: string): void {
    console.log(`vmxnet3: ${this.name}: ${reason}; the NIC is stopped`);
    this.quiet();
    this.stopped = true;
    this.active = false;
    this.command(Command.reset);
    if (this.linkState) {
      this.linkState = false;
      this.emitLinkChange(false);
    }
  }

  /** Masks every interrupt (which also lowers the INTx line when nothing is pending). */
  private quiet(): void {
    if (!this.active) return;
    for (let i = 0; i < this.interruptCount; i++) this.bar0.write32(Bar0.interruptMask + i * 8, 1);
  }

  /** Resets the device, gives it fresh rings and activates it; throws when it refuses. */
  private bringUp(): void {
    this.quiet();
    this.active = false;
    this.command(Command.reset);
    this.transmitRing.reset();
    this.receiveRing.reset();
    const w = this.words;
    w[Shared.interruptControl >> 2] = INTERRUPT_CONTROL_DISABLE_ALL;
    w[Shared.eventCause >> 2] = 0;
    w.fill(0, this.transmitQueue >> 2, (this.transmitQueue + 16) >> 2);
    w.fill(0, this.receiveQueue >> 2, (this.receiveQueue + 16) >> 2);
    for (const queue of [this.transmitQueue, this.receiveQueue]) w.fill(0, (queue + TransmitQueue.stopped) >> 2, (queue + 88) >> 2);
    const address = this.control.address;
    this.bar1.write32(Bar1.driverSharedLow, address % 4294967296);
    this.bar1.write32(Bar1.driverSharedHigh, Math.floor(address / 4294967296));
    const status = this.command(Command.activate);
    if (status !== 0) {
      throw new Vmxnet3Error(
        'vmxnet3-activation',
        `${this.device} refused activation (ACTIVATE_DEV answered ${hex(status)}) with MTU ${this.mtu}, ` +
          `${this.transmitRing.size} transmit and ${this.receiveRing.size} receive descriptors, ${this.interruptCount} ${this.interruptMode} interrupt(s)`,
      );
    }
    this.active = true;
    // BAR 0 takes writes only now that the device is active: producers, then the interrupt masks.
    this.bar0.write32(Bar0.receiveProducer, this.receiveRing.producer);
    this.bar0.write32(Bar0.receiveProducer2, 0);
    this.command(Command.updateReceiveMode);
    this.readLink();
    for (let i = 0; i < this.interruptCount; i++) this.bar0.write32(Bar0.interruptMask + i * 8, 0);
    w[Shared.interruptControl >> 2] = 0;
  }
}
