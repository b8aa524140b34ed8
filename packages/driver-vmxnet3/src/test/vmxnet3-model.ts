/**
 * A scriptable vmxnet3 device for the driver's unit tests, on @uos/hw/test's fake machine. It behaves as
 * QEMU's model does where that matters to a driver: BAR 0 writes are ignored until the device is active;
 * activation checks the magic, the queue counts and the MTU (60..9000) and leaves the device inactive
 * otherwise; an interrupt index beyond the device's (25 with MSI-X, 1 with MSI) is where QEMU aborts,
 * here an exception; a transmit descriptor of length 0 means 16 KiB; every interrupt starts masked and
 * auto-masking masks it again each time it fires (MSI-X, MSI) or is read from the cause register (INTx);
 * a frame that finds no receive buffer is dropped (and counted), not queued.
 *
 * Scripts: `holdTransmits` (the doorbell is noted, the ring processed only by `processTransmits()`),
 * `refuseActivation`, `queueError()`, `pushCompletion()` for made-up completions, `setLink()`.
 */
import type { FakeMachine } from '@uos/hw/test';
import { FakeDeviceInterrupts, type FakePciFunction } from '@uos/hw/test';

export const BAR0 = 0xfebf0000;
export const BAR1 = 0xfebf1000;
export const BAR2 = 0xfebf2000;
const MAX_INTERRUPTS = 25;
const MAGIC = 0xbabefee1;
const ECR = 696;
const TX_DESC = 256;
const LINK_UP = (1000 << 16) | 1;

interface Ring {
  address: number;
  size: number;
  generation: number;
  next: number;
}

interface InterruptState {
  masked: boolean;
  pending: boolean;
  asserted: boolean;
}

const ring = (address = 0, size = 0): Ring => ({ address, size, generation: 1, next: 0 });
const advance = (r: Ring): void => {
  if (++r.next >= r.size) {
    r.next = 0;
    r.generation ^= 1;
  }
};

export interface Vmxnet3ModelOptions {
  slot?: number;
  /** Leave out the MSI-X capability (and BAR 2), or the MSI capability. */
  msix?: boolean;
  msi?: boolean;
  mac?: readonly number[];
}

export class Vmxnet3Model {
  readonly fn: FakePciFunction;
  readonly signals: FakeDeviceInterrupts;
  /** Frames the driver transmitted, in order. */
  readonly sent: Uint8Array[] = [];
  /** Commands written to the command register, in order. */
  readonly commands: number[] = [];
  /** BAR 0 writes made while the device was inactive (ignored, as QEMU does). */
  readonly ignoredWrites: { offset: number; value: number }[] = [];
  /** Transmit doorbells (writes of the transmit producer). */
  doorbells = 0;
  holdTransmits = false;
  refuseActivation = false;
  /** What the revision and UPT version registers report (bit 0: revision 1). */
  revisions = 1;
  active = false;
  link = LINK_UP;
  /** The device's own counters (UPT1): transmit and receive, ten each. */
  readonly transmitCounters = new Array<number>(10).fill(0);
  readonly receiveCounters = new Array<number>(10).fill(0);
  readonly interrupts: InterruptState[] = [];
  mtu = 0;
  autoMask = false;
  private readonly mac: number[];
  private shared = 0;
  private sharedLow = 0;
  private lastCommand = 0;
  private eventInterrupt = 0;
  private transmitInterrupt = 0;
  private receiveInterrupt = 0;
  private queueDescriptors = 0;
  private transmitRing = ring();
  private transmitCompletions = ring();
  private receiveRings = [ring(), ring()];
  private receiveCompletions = ring();

  constructor(
    private readonly machine: FakeMachine,
    options: Vmxnet3ModelOptions = {},
  ) {
    this.mac = [...(options.mac ?? [0x00, 0x0c, 0x29, 0x12, 0x34, 0x56])];
    const f = machine.platform
      .addFunction(
        { device: options.slot ?? 4 },
        {
          vendorId: 0x15ad,
          deviceId: 0x07b0,
          classCode: 2,
          revision: 1,
          subsystemVendorId: 0x15ad,
          subsystemId: 0x07b0,
          interruptLine: 10,
          interruptPin: 1,
        },
      )
      .setBar(0, { kind: 'mmio32', address: BAR0, size: 0x1000 })
      .setBar(1, { kind: 'mmio32', address: BAR1, size: 0x1000 });
    if (options.msi !== false) f.addMsiCapability();
    if (options.msix !== false) {
      f.setBar(2, { kind: 'mmio32', address: BAR2, size: 0x2000 });
      f.addMsixCapability({ tableSize: MAX_INTERRUPTS, tableBar: 2, tableOffset: 0, pendingBitArrayOffset: 0x1000 });
    }
    machine.platform.attachMmio(BAR0, 0x1000, { read: (o) => this.bar0Read(o), write: (o, _w, v) => this.bar0Write(o, v) });
    machine.platform.attachMmio(BAR1, 0x1000, { read: (o) => this.bar1Read(o), write: (o, _w, v) => this.bar1Write(o, v) });
    this.fn = f;
    this.signals = new FakeDeviceInterrupts(machine.platform, machine.interrupts, f);
    this.resetInterrupts();
  }

  /** Receive buffers the device can fill now (ring 0 descriptors holding the device's generation). */
  get receiveBuffersAvailable(): number {
    const r = this.receiveRings[0]!;
    let count = 0;
    for (let i = 0, at = r.next, generation = r.generation; i < r.size; i++) {
      if (this.word(r.address + at * 16 + 8) >>> 31 !== generation) break;
      count++;
      if (++at === r.size) {
        at = 0;
        generation ^= 1;
      }
    }
    return count;
  }

  /**
   * A frame arrives from the wire. True when it went into a receive buffer; false when the device is
   * inactive, the link is down, or no buffer was there (then it is dropped and counted, as QEMU does).
   */
  deliver(frame: Uint8Array): boolean {
    if (!this.active || !(this.link & 1)) return false;
    const padded = frame.length < 60 ? Uint8Array.from({ length: 60 }, (_, i) => frame[i] ?? 0) : frame;
    const completion = this.receiveCompletions;
    const completionAt = completion.address + completion.next * 16;
    if (this.word(completionAt + 12) >>> 31 === completion.generation) {
      this.receiveCounters[8]!++; // the driver has not taken the completions yet: out of buffers
      this.interrupt(this.receiveInterrupt);
      return false;
    }
    const r = this.receiveRings[0]!;
    let index = -1;
    let descriptor = 0;
    while (this.word(r.address + r.next * 16 + 8) >>> 31 === r.generation) {
      const candidate = r.next;
      descriptor = r.address + candidate * 16;
      advance(r);
      if (!(this.word(descriptor + 8) & (1 << 14))) {
        index = candidate;
        break;
      }
    }
    if (index < 0) {
      this.receiveCounters[8]!++;
      this.interrupt(this.receiveInterrupt);
      return false;
    }
    const length = this.word(descriptor + 8) & 0x3fff;
    const address = this.word(descriptor) + this.word(descriptor + 4) * 2 ** 32;
    const chunk = Math.min(length, padded.length);
    this.machine.platform.dma(address, chunk).set(padded.subarray(0, chunk));
    const error = chunk < padded.length;
    this.writeCompletion(completion, [index | (1 << 14) | (1 << 15), 0, chunk | (error ? 1 << 14 : 0), 3 << 24]);
    if (error) this.receiveCounters[9]!++;
    else {
      this.receiveCounters[2]!++;
      this.receiveCounters[3]! += padded.length;
    }
    this.interrupt(this.receiveInterrupt);
    return !error;
  }

  /** Processes the transmit ring now (after `holdTransmits`). */
  processTransmits(): void {
    const r = this.transmitRing;
    let fragments: Uint8Array[] = [];
    while (this.active) {
      const at = r.address + r.next * 16;
      const second = this.word(at + 8);
      if (((second >>> 14) & 1) !== r.generation) break;
      const index = r.next;
      advance(r);
      const length = second & 0x3fff || 16384; // length 0 means 16 KiB
      fragments.push(Uint8Array.from(this.machine.platform.dma(this.word(at) + this.word(at + 4) * 2 ** 32, length)));
      if (this.word(at + 12) & (1 << 12)) {
        const packet = new Uint8Array(fragments.reduce((n, f) => n + f.length, 0));
        let offset = 0;
        for (const f of fragments) {
          packet.set(f, offset);
          offset += f.length;
        }
        fragments = [];
        this.sent.push(packet);
        this.transmitCounters[2]!++;
        this.transmitCounters[3]! += packet.length;
        this.writeCompletion(this.transmitCompletions, [index, 0, 0, 0]);
        this.interrupt(this.transmitInterrupt);
      }
    }
  }

  /** Script: a completion the device made up, on the transmit or the receive completion ring. */
  pushCompletion(queue: 'transmit' | 'receive', words: [number, number, number, number]): void {
    this.writeCompletion(queue === 'transmit' ? this.transmitCompletions : this.receiveCompletions, words);
    this.interrupt(queue === 'transmit' ? this.transmitInterrupt : this.receiveInterrupt);
  }

  /** Script: the device stops a queue with `error` (a VMXNET3_ERR_* code) and raises the event. */
  queueError(queue: 'transmit' | 'receive', error: number): void {
    const at = this.queueDescriptors + (queue === 'transmit' ? 0 : TX_DESC);
    this.dma(at + 80, 8).set([1, 0, 0, 0, error & 0xff, (error >>> 8) & 0xff, (error >>> 16) & 0xff, error >>> 24]);
    this.raiseEvent(queue === 'transmit' ? 2 : 1);
  }

  setLink(up: boolean): void {
    this.link = up ? LINK_UP : LINK_UP & ~1;
    this.raiseEvent(4);
  }

  private raiseEvent(bits: number): void {
    if (this.shared) this.setWord(this.shared + ECR, this.word(this.shared + ECR) | bits);
    this.interrupt(this.eventInterrupt);
  }

  private resetInterrupts(): void {
    this.interrupts.length = 0;
    for (let i = 0; i < MAX_INTERRUPTS; i++) this.interrupts.push({ masked: true, pending: false, asserted: false });
  }

  /** QEMU's vmxnet3_trigger_interrupt, with its auto-masking. */
  private interrupt(index: number): void {
    const state = this.interrupts[index];
    if (!state) throw new Error(`vmxnet3 model: QEMU would abort here: interrupt index ${index}`);
    state.pending = true;
    this.updateLine(index);
    if (this.autoMask && this.signals.mode !== 'intx') {
      state.masked = true;
      this.updateLine(index);
    }
  }

  private updateLine(index: number): void {
    const state = this.interrupts[index]!;
    if (!state.pending && state.asserted) {
      if (this.signals.mode === 'intx') this.signals.setIntx(false);
      state.asserted = false;
      return;
    }
    if (state.pending && !state.masked && !state.asserted) {
      const mode = this.signals.mode;
      if (mode === 'msix') this.signals.msix(index);
      else if (mode === 'msi') {
        if (index !== 0) throw new Error(`vmxnet3 model: QEMU would abort here: MSI interrupt ${index} of 1`);
        this.signals.msi(0);
      } else this.signals.setIntx(true);
      state.asserted = mode === 'intx';
      state.pending = false;
    }
  }

  private bar0Read(offset: number): number {
    if (offset < MAX_INTERRUPTS * 8 && offset % 8 === 0) return this.interrupts[offset / 8]!.masked ? 1 : 0;
    return 0;
  }

  private bar0Write(offset: number, value: number): void {
    if (!this.active) {
      this.ignoredWrites.push({ offset, value });
      return;
    }
    if (offset === 0x600) {
      this.doorbells++;
      if (!this.holdTransmits) this.processTransmits();
    } else if (offset < MAX_INTERRUPTS * 8 && offset % 8 === 0) {
      this.interrupts[offset / 8]!.masked = Boolean(value);
      this.updateLine(offset / 8);
    }
  }

  private bar1Read(offset: number): number {
    switch (offset) {
      case 0x00:
      case 0x08:
        return this.revisions;
      case 0x20:
        return this.commandResult();
      case 0x28:
        return (this.mac[0]! | (this.mac[1]! << 8) | (this.mac[2]! << 16) | (this.mac[3]! << 24)) >>> 0;
      case 0x30:
        return this.mac[4]! | (this.mac[5]! << 8);
      case 0x38: {
        const state = this.interrupts[0]!;
        if (!state.asserted) return 0;
        state.pending = false;
        if (this.autoMask) state.masked = true;
        this.updateLine(0);
        return 1;
      }
      default:
        return 0;
    }
  }

  private bar1Write(offset: number, value: number): void {
    switch (offset) {
      case 0x10:
        if (value === 0) this.active = false;
        this.sharedLow = value;
        this.shared = 0;
        break;
      case 0x18:
        this.shared = this.sharedLow + value * 2 ** 32;
        break;
      case 0x20:
        this.command(value);
        break;
      case 0x40:
        if (this.shared) this.setWord(this.shared + ECR, this.word(this.shared + ECR) & ~value);
        break;
    }
  }

  private command(command: number): void {
    this.commands.push(command);
    this.lastCommand = command;
    if (command === 0xcafe0000) this.activate();
    else if (command === 0xcafe0002) {
      this.active = false;
      this.shared = 0;
      this.resetInterrupts(); // the INTx line is left as it was, as QEMU leaves it
    } else if (command === 0xcafe0001) this.active = false;
    else if (command === 0xf00d0001 && this.active) {
      const write = (at: number, counters: number[]) =>
        counters.forEach((c, i) => {
          this.setWord(at + i * 8, c % 2 ** 32);
          this.setWord(at + i * 8 + 4, Math.floor(c / 2 ** 32));
        });
      write(this.queueDescriptors + 88, this.transmitCounters);
      write(this.queueDescriptors + TX_DESC + 88, this.receiveCounters);
    }
  }

  private commandResult(): number {
    switch (this.lastCommand) {
      case 0xcafe0000:
        return this.active ? 0 : 1;
      case 0xf00d0002:
        return this.link;
      default:
        return 0;
    }
  }

  private activate(): void {
    const s = this.shared;
    if (this.active || !s || this.word(s) !== MAGIC || this.refuseActivation) return;
    const bytes = this.dma(s, 720);
    const v = new DataView(bytes.buffer, bytes.byteOffset, 720);
    if (v.getUint8(62) > 8 || v.getUint8(63) > 8) return;
    const mtu = v.getUint32(56, true);
    if (mtu < 60 || mtu > 9000) return; // QEMU logs "bad MTU" and stays inactive
    this.mtu = mtu;
    this.autoMask = v.getUint8(80) !== 0;
    this.eventInterrupt = this.checkIndex(v.getUint8(82));
    const q = v.getUint32(40, true) + v.getUint32(44, true) * 2 ** 32;
    this.queueDescriptors = q;
    const address = (at: number) => this.word(at) + this.word(at + 4) * 2 ** 32;
    const size = (at: number, limit: number) => Math.min(this.word(at), limit);
    this.transmitInterrupt = this.checkIndex(this.dma(q + 72, 1)[0]!);
    this.transmitRing = ring(address(q + 16), size(q + 56, 4096));
    this.transmitCompletions = ring(address(q + 32), size(q + 64, 4096));
    this.dma(this.transmitCompletions.address, this.transmitCompletions.size * 16).fill(0);
    this.setWord(q + 4, 1); // txThreshold
    const r = q + TX_DESC;
    this.receiveInterrupt = this.checkIndex(this.dma(r + 72, 1)[0]!);
    this.receiveRings = [ring(address(r + 16), size(r + 56, 4096)), ring(address(r + 24), size(r + 60, 4096))];
    this.receiveCompletions = ring(address(r + 32), size(r + 64, 8192));
    this.dma(this.receiveCompletions.address, this.receiveCompletions.size * 16).fill(0);
    this.active = true;
  }

  private checkIndex(index: number): number {
    const limit = this.signals.msixSize ? MAX_INTERRUPTS : 1;
    if (index >= limit) throw new Error(`vmxnet3 model: QEMU would abort here: bad interrupt index ${index}`);
    return index;
  }

  private writeCompletion(r: Ring, words: [number, number, number, number] | number[]): void {
    const at = r.address + r.next * 16;
    for (let i = 0; i < 3; i++) this.setWord(at + i * 4, words[i]!);
    this.setWord(at + 12, ((words[3]! & 0x7fffffff) | (r.generation << 31)) >>> 0);
    advance(r);
  }

  private dma(address: number, length: number): Uint8Array {
    return this.machine.platform.dma(address, length);
  }

  private word(address: number): number {
    const b = this.dma(address, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  private setWord(address: number, value: number): void {
    this.dma(address, 4).set([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24]);
  }
}
