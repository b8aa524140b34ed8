import { irq } from '@uos/kernel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MsixTable, routeIntx } from '../msix.js';
import { PciDevice } from '../pci.js';
import { FakeDeviceInterrupts, FakeMachine, type FakePciFunction } from './index.js';

let machine: FakeMachine;

beforeEach(() => {
  machine = new FakeMachine().install();
});

afterEach(() => {
  machine.uninstall();
});

const BAR = 0xfe000000;

/** A network function with a 4 KiB register BAR 0, an MSI-X table of 4 in BAR 2, MSI and INTx on line 11. */
function device(): { f: FakePciFunction; signals: FakeDeviceInterrupts; pci: PciDevice } {
  const f = machine.platform
    .addFunction({ device: 4 }, { vendorId: 0x15ad, deviceId: 0x07b0, classCode: 2, interruptLine: 11, interruptPin: 1 })
    .setBar(0, { kind: 'mmio32', address: BAR, size: 0x1000 })
    .setBar(2, { kind: 'mmio32', address: BAR + 0x2000, size: 0x2000 });
  f.addMsiCapability();
  f.addMsixCapability({ tableSize: 4, tableBar: 2, tableOffset: 0, pendingBitArrayOffset: 0x1000 });
  return { f, signals: new FakeDeviceInterrupts(machine.platform, machine.interrupts, f), pci: new PciDevice(0, 4, 0) };
}

describe('FakePlatform registers and DMA', () => {
  it('lets attached registers answer inside their range and plain memory answer elsewhere', () => {
    const { pci } = device();
    const window = pci.barWindow(0);
    const seen: string[] = [];
    const detach = machine.platform.attachMmio(BAR + 0x100, 0x10, {
      read: (offset, width) => 0xabcd0000 + offset * 16 + width,
      write: (offset, width, value) => seen.push(`${offset}/${width}=${value.toString(16)}`),
    });
    expect(window.read32(0x104)).toBe(0xabcd0044);
    window.write16(0x10e, 0x1234);
    window.write32(0x200, 7);
    expect(window.read32(0x200)).toBe(7);
    expect(seen).toEqual(['14/2=1234']);
    expect(machine.platform.mmioWrites.map((w) => w.address)).toEqual([BAR + 0x10e, BAR + 0x200]);
    expect(() => machine.platform.attachMmio(BAR + 0x108, 4, { read: () => 0, write: () => {} })).toThrow(/overlap/);
    detach();
    expect(window.read32(0x104)).toBe(0);
  });

  it('reaches DMA memory by physical address, and refuses memory nobody allocated', () => {
    const buffer = machine.platform.dmaAllocate(100);
    const address = machine.platform.dmaAddress(buffer);
    machine.platform.dma(address + 10, 4).set([1, 2, 3, 4]);
    expect([...new Uint8Array(buffer, 10, 4)]).toEqual([1, 2, 3, 4]);
    expect(() => machine.platform.dma(address + 98, 4)).toThrow(/outside every DMA buffer/);
    expect(() => machine.platform.dma(0x1000, 1)).toThrow(/outside every DMA buffer/);
  });

  it('builds an MSI capability whose enable bits, address and data are writable', () => {
    const { f } = device();
    const at = f.findCapability(0x05)!;
    expect(f.read(at + 2, 2)).toBe(0x80); // one vector, 64-bit
    f.write(at + 2, 2, 0xffff);
    expect(f.read(at + 2, 2)).toBe(0xf1);
    f.write(at + 4, 4, 0xffffffff);
    expect(f.read(at + 4, 4)).toBe(0xfffffffc);
    expect(f.barAddress(2)).toBe(BAR + 0x2000);
  });
});

describe('FakeInterruptController', () => {
  it("runs irq.subscribe handlers for MSI-X messages routed by @uos/hw's MsixTable", async () => {
    const { signals, pci } = device();
    const table = MsixTable.open(pci)!;
    const vectors = table.enableVectors(2);
    expect(vectors[1]).toBe(vectors[0]! + 1);
    const seen: number[] = [];
    irq.subscribe(vectors[0]!, () => seen.push(0));
    irq.subscribe(vectors[1]!, () => seen.push(1));
    expect(signals.mode).toBe('msix');
    signals.msix(1);
    signals.msix(1);
    signals.msix(0);
    await machine.settle();
    expect(seen).toEqual([1, 0]); // two messages on one vector before a turn are taken once
  });

  it('keeps an MSI-X message pending while its entry is masked and sends it on unmask', async () => {
    const { signals, pci } = device();
    const table = MsixTable.open(pci)!;
    const [vector] = table.enableVectors(1);
    let calls = 0;
    irq.subscribe(vector!, () => calls++);
    table.mask(0);
    signals.msix(0);
    await machine.settle();
    expect([calls, signals.msixPending(0)]).toEqual([0, true]);
    table.unmask(0);
    await machine.settle();
    expect([calls, signals.msixPending(0)]).toEqual([1, false]);
  });

  it('re-delivers a level-triggered line every turn until the device lowers it, and reports a storm', async () => {
    const { signals, pci } = device();
    const vector = routeIntx(pci);
    expect(machine.interrupts.routed).toEqual([{ gsi: 11, vector, level: true, activeLow: false }]);
    let calls = 0;
    irq.subscribe(vector, () => {
      if (++calls === 3) signals.setIntx(false);
    });
    signals.setIntx(true);
    await machine.settle();
    expect(calls).toBe(3);
    signals.setIntx(true);
    await expect(machine.settle(10)).rejects.toThrow(/still pending after 10 turns: line 11/);
    signals.setIntx(false);
  });

  it('silences INTx while the command register disables it', async () => {
    const { signals, pci } = device();
    routeIntx(pci);
    pci.setCommand(1 << 10);
    signals.setIntx(true);
    expect(machine.interrupts.lineRaised(11)).toBe(false);
    pci.setCommand(0, 1 << 10);
    expect(machine.interrupts.lineRaised(11)).toBe(true);
    signals.setIntx(false);
  });

  it('sends MSI through the capability and records messages to a wrong APIC as stray', async () => {
    const { f, signals } = device();
    const at = f.findCapability(0x05)!;
    const [vector] = [irq.allocate(1)];
    let calls = 0;
    irq.subscribe(vector, () => calls++);
    signals.msi();
    expect(machine.interrupts.busy).toBe(false); // not enabled yet
    f.write(at + 4, 4, 0xfee00000);
    f.write(at + 12, 2, vector);
    f.write(at + 2, 2, 1);
    expect(signals.mode).toBe('msi');
    signals.msi();
    await machine.settle();
    expect(calls).toBe(1);
    f.write(at + 4, 4, 0xfee01000); // APIC 1: not this CPU
    signals.msi();
    expect(machine.interrupts.strayMessages).toEqual([{ address: 0xfee01000, data: vector }]);
  });

  it('hands out aligned vector blocks and takes them back', () => {
    const a = irq.allocate(1);
    const b = irq.allocate(4);
    expect(b % 4).toBe(0);
    irq.free(b, 4);
    expect(irq.allocate(4)).toBe(b);
    expect(a).toBeGreaterThanOrEqual(64);
  });

  it('names a native binding it does not emulate', () => {
    expect(() => irq.counts()).not.toThrow();
    const native = (globalThis as unknown as { __uos: { rdtsc(): void } }).__uos;
    expect(() => native.rdtsc()).toThrow(/rdtsc is not emulated/);
  });
});
