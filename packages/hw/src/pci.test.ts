import { UosError } from '@uos/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PciCapability, PciCommand, PciConfig, PciDevice } from './pci.js';
import { setHwPlatform } from './platform.js';
import { type FakeFunctionOptions, FakePlatform, thrownBy } from './test/fake-platform.js';

let platform: FakePlatform;

beforeEach(() => {
  platform = new FakePlatform();
  setHwPlatform(platform);
});

afterEach(() => {
  setHwPlatform(undefined);
});

const virtioNet: FakeFunctionOptions = {
  vendorId: 0x1af4,
  deviceId: 0x1000,
  classCode: 0x02,
  subclass: 0x00,
  progIf: 0x00,
  revision: 0x01,
  subsystemVendorId: 0x1af4,
  subsystemId: 0x0001,
  interruptLine: 11,
  interruptPin: 1,
};

describe('PciDevice identity', () => {
  it('reads vendor, device, class, subclass, programming interface and revision', () => {
    platform.addFunction(
      { device: 3 },
      { vendorId: 0x8086, deviceId: 0x100e, classCode: 0x02, subclass: 0x80, progIf: 0x12, revision: 0x03 },
    );
    const device = new PciDevice(0, 3, 0);
    expect(device).toMatchObject({
      vendorId: 0x8086,
      deviceId: 0x100e,
      classCode: 0x02,
      subclass: 0x80,
      progIf: 0x12,
      revision: 0x03,
      headerType: 0,
    });
  });

  it('drops the multi-function bit from the header type', () => {
    platform.addFunction({ device: 1 }, { vendorId: 0x8086, deviceId: 0x7000, headerType: 0x80 });
    expect(new PciDevice(0, 1, 0).headerType).toBe(0);
    platform.addFunction({ device: 2 }, { vendorId: 0x8086, deviceId: 0x2448, headerType: 0x81 });
    expect(new PciDevice(0, 2, 0).headerType).toBe(1);
  });

  it('formats its address as bus:device.function with two hex digits for bus and device', () => {
    platform.addFunction({ device: 3 }, virtioNet);
    platform.addFunction({ bus: 0x1a, device: 0x1f, function: 7 }, virtioNet);
    expect(new PciDevice(0, 3, 0).address).toBe('00:03.0');
    expect(new PciDevice(0x1a, 0x1f, 7).address).toBe('1a:1f.7');
    expect(String(new PciDevice(0, 3, 0))).toBe('00:03.0 1af4:1000');
  });

  it('reads the subsystem IDs of a type 0 header and none of a bridge', () => {
    platform.addFunction({ device: 3 }, virtioNet);
    platform.addFunction(
      { device: 4 },
      { vendorId: 0x1b36, deviceId: 0x0001, headerType: 1, subsystemVendorId: 0x1234, subsystemId: 0x5678 },
    );
    const device = new PciDevice(0, 3, 0);
    expect([device.subsystemVendorId, device.subsystemId]).toEqual([0x1af4, 0x0001]);
    const bridge = new PciDevice(0, 4, 0);
    expect([bridge.subsystemVendorId, bridge.subsystemId]).toEqual([0, 0]);
  });

  it('reads the legacy interrupt line and pin', () => {
    platform.addFunction({ device: 3 }, virtioNet);
    const device = new PciDevice(0, 3, 0);
    expect([device.interruptLine, device.interruptPin]).toEqual([11, 1]);
  });

  it('reads and writes configuration space at each width, little-endian', () => {
    const f = platform.addFunction({ device: 3 }, virtioNet);
    f.setWritable(0x40, 4, 0xffffffff);
    const device = new PciDevice(0, 3, 0);
    device.write32(0x40, 0x11223344);
    expect(device.read8(0x40)).toBe(0x44);
    expect(device.read16(0x42)).toBe(0x1122);
    device.write8(0x41, 0xaa);
    device.write16(0x42, 0xbbcc);
    expect(device.read32(0x40)).toBe(0xbbccaa44);
  });

  it('cannot change read-only fields', () => {
    platform.addFunction({ device: 3 }, virtioNet);
    const device = new PciDevice(0, 3, 0);
    device.write32(PciConfig.vendorId, 0xffffffff);
    device.write32(PciConfig.revision, 0);
    expect([device.read16(PciConfig.vendorId), device.read16(PciConfig.deviceId), device.read8(PciConfig.classCode)]).toEqual([
      0x1af4, 0x1000, 0x02,
    ]);
  });
});

describe('PciDevice BARs', () => {
  it('sizes an I/O BAR and reads its port address', () => {
    platform.addFunction({ device: 3 }, virtioNet).setBar(0, { kind: 'io', address: 0xc040, size: 32 });
    expect(new PciDevice(0, 3, 0).bars[0]).toEqual({ index: 0, kind: 'io', address: 0xc040, size: 32, prefetchable: false });
  });

  it('sizes a 32-bit memory BAR (addresses with bit 31 set stay unsigned)', () => {
    platform.addFunction({ device: 3 }, virtioNet).setBar(1, { kind: 'mmio32', address: 0xfebd1000, size: 0x1000 });
    expect(new PciDevice(0, 3, 0).bars[1]).toEqual({ index: 1, kind: 'mmio32', address: 0xfebd1000, size: 0x1000, prefetchable: false });
  });

  it('reads the prefetchable bit', () => {
    platform.addFunction({ device: 3 }, virtioNet).setBar(2, { kind: 'mmio32', address: 0xe0000000, size: 0x100000, prefetchable: true });
    expect(new PciDevice(0, 3, 0).bars[2]).toMatchObject({ kind: 'mmio32', prefetchable: true, size: 0x100000 });
  });

  it('sizes a 64-bit memory BAR above 4 GiB; the upper half is no BAR of its own', () => {
    platform.addFunction({ device: 3 }, virtioNet).setBar(4, { kind: 'mmio64', address: 0x8_0000_4000, size: 0x4000, prefetchable: true });
    const bars = new PciDevice(0, 3, 0).bars;
    expect(bars[4]).toEqual({ index: 4, kind: 'mmio64', address: 0x8_0000_4000, size: 0x4000, prefetchable: true });
    expect(bars[5]).toBeUndefined();
    expect(bars).toHaveLength(6);
  });

  it('sizes a 64-bit memory BAR larger than 4 GiB', () => {
    platform.addFunction({ device: 3 }, virtioNet).setBar(0, { kind: 'mmio64', address: 0x40_0000_0000, size: 0x2_0000_0000 });
    const bars = new PciDevice(0, 3, 0).bars;
    expect(bars[0]).toEqual({ index: 0, kind: 'mmio64', address: 0x40_0000_0000, size: 0x2_0000_0000, prefetchable: false });
    expect(bars[1]).toBeUndefined();
  });

  it('reads a mix of BARs, unimplemented ones undefined', () => {
    platform
      .addFunction({ device: 3 }, virtioNet)
      .setBar(0, { kind: 'io', address: 0xc000, size: 0x20 })
      .setBar(1, { kind: 'mmio32', address: 0xfebd1000, size: 0x1000 })
      .setBar(4, { kind: 'mmio64', address: 0xfe000000, size: 0x4000, prefetchable: true });
    const bars = new PciDevice(0, 3, 0).bars;
    expect(bars.map((bar) => bar?.kind)).toEqual(['io', 'mmio32', undefined, undefined, 'mmio64', undefined]);
    expect(bars[4]?.address).toBe(0xfe000000);
  });

  it('has six BARs, all undefined, when none is implemented', () => {
    platform.addFunction({ device: 3 }, virtioNet);
    const bars = new PciDevice(0, 3, 0).bars;
    expect(bars).toHaveLength(6);
    expect(bars.every((bar) => bar === undefined)).toBe(true);
  });

  it('probes only two BARs of a bridge (header type 1) and none of a CardBus bridge', () => {
    const bridge = platform
      .addFunction({ device: 4 }, { vendorId: 0x1b36, deviceId: 0x0001, classCode: 0x06, subclass: 0x04, headerType: 1 })
      .setBar(0, { kind: 'mmio32', address: 0xfe800000, size: 0x100 })
      .setBar(1, { kind: 'io', address: 0xd000, size: 0x10 });
    bridge.setRaw(0x18, 4, 0x00020100); // primary, secondary and subordinate bus numbers, not a BAR
    bridge.setWritable(0x18, 4, 0xffffffff);
    const bars = new PciDevice(0, 4, 0).bars;
    expect(bars.map((bar) => bar?.kind)).toEqual(['mmio32', 'io']);
    expect(platform.configWritesTo(bridge).filter((w) => w.offset >= 0x18 && w.offset < 0x40)).toEqual([]);
    expect(bridge.read(0x18, 4)).toBe(0x00020100);

    platform.addFunction({ device: 5 }, { vendorId: 0x104c, deviceId: 0xac55, headerType: 2 });
    expect(new PciDevice(0, 5, 0).bars).toEqual([]);
  });

  it('turns decoding off while it probes, leaves bus mastering alone and restores the command register', () => {
    const command = PciCommand.io | PciCommand.memory | PciCommand.busMaster | PciCommand.interruptDisable;
    const f = platform
      .addFunction({ device: 3 }, { ...virtioNet, command })
      .setBar(0, { kind: 'io', address: 0xc000, size: 0x20 })
      .setBar(1, { kind: 'mmio32', address: 0xfebd1000, size: 0x1000 })
      .setBar(4, { kind: 'mmio64', address: 0x8_0000_0000, size: 0x4000 });
    void new PciDevice(0, 3, 0).bars;
    const probes = platform.configWritesTo(f).filter((w) => w.offset >= PciConfig.bar0 && w.offset < 0x28 && w.value === 0xffffffff);
    // Six BAR registers, the 64-bit pair included, each probed once.
    expect(probes.map((w) => w.offset)).toEqual([0x10, 0x14, 0x18, 0x1c, 0x20, 0x24]);
    for (const probe of probes) expect(probe.commandBefore).toBe(PciCommand.busMaster | PciCommand.interruptDisable);
    expect(f.command).toBe(command);
  });

  it('writes the original BAR values back', () => {
    const f = platform
      .addFunction({ device: 3 }, virtioNet)
      .setBar(0, { kind: 'io', address: 0xc000, size: 0x20 })
      .setBar(2, { kind: 'mmio64', address: 0x8_0000_0000, size: 0x4000, prefetchable: true });
    const before = Array.from({ length: 6 }, (_, i) => f.read(0x10 + i * 4, 4));
    void new PciDevice(0, 3, 0).bars;
    expect(Array.from({ length: 6 }, (_, i) => f.read(0x10 + i * 4, 4))).toEqual(before);
    expect(before[0]).toBe(0xc001);
    expect(before[3]).toBe(8);
  });

  it('probes once and caches the result', () => {
    const f = platform.addFunction({ device: 3 }, virtioNet).setBar(1, { kind: 'mmio32', address: 0xfebd1000, size: 0x1000 });
    const device = new PciDevice(0, 3, 0);
    const first = device.bars;
    const writes = platform.configWritesTo(f).length;
    expect(writes).toBeGreaterThan(0);
    expect(device.bars).toBe(first);
    expect(platform.configWritesTo(f)).toHaveLength(writes);
  });
});

describe('PciDevice capabilities', () => {
  it('walks the list in order', () => {
    const f = platform.addFunction({ device: 3 }, virtioNet);
    const msix = f.addMsixCapability({ tableSize: 4, tableBar: 1, tableOffset: 0 });
    const vendor1 = f.addVendorCapability([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const vendor2 = f.addVendorCapability([2, 0, 0, 0]);
    const express = f.addCapability(PciCapability.pciExpress, new Array(58).fill(0));
    expect(msix).toBe(0x40);
    const device = new PciDevice(0, 3, 0);
    expect(device.capabilities).toEqual([
      { id: PciCapability.msix, offset: msix },
      { id: PciCapability.vendor, offset: vendor1 },
      { id: PciCapability.vendor, offset: vendor2 },
      { id: PciCapability.pciExpress, offset: express },
    ]);
    expect(device.findCapability(PciCapability.vendor)).toEqual({ id: PciCapability.vendor, offset: vendor1 });
    expect(device.findCapability(PciCapability.msi)).toBeUndefined();
    expect(device.read8(vendor1 + 2)).toBe(16);
  });

  it('stops at a loop in the list', () => {
    const f = platform.addFunction({ device: 3 }, virtioNet);
    const first = f.addVendorCapability([1]);
    const second = f.addVendorCapability([2]);
    const third = f.addCapability(PciCapability.msi, [0, 0]);
    f.setRaw(third + 1, 1, second);
    expect(new PciDevice(0, 3, 0).capabilities.map((c) => c.offset)).toEqual([first, second, third]);
  });

  it('stops at a capability that points to itself', () => {
    const f = platform.addFunction({ device: 3 }, virtioNet);
    const only = f.addVendorCapability([1]);
    f.setRaw(only + 1, 1, only);
    expect(new PciDevice(0, 3, 0).capabilities).toEqual([{ id: PciCapability.vendor, offset: only }]);
  });

  it('has none when the status register lacks the capabilities bit', () => {
    const f = platform.addFunction({ device: 3 }, virtioNet);
    f.addMsixCapability({ tableSize: 4, tableBar: 1, tableOffset: 0 });
    f.setRaw(PciConfig.status, 2, 0);
    const device = new PciDevice(0, 3, 0);
    expect(device.capabilities).toEqual([]);
    expect(device.findCapability(PciCapability.msix)).toBeUndefined();
  });

  it('ends the walk at a pointer below 0x40 (into the header)', () => {
    const f = platform.addFunction({ device: 3 }, virtioNet);
    const first = f.addVendorCapability([1]);
    f.addVendorCapability([2]);
    f.setRaw(first + 1, 1, 0x3c);
    expect(new PciDevice(0, 3, 0).capabilities.map((c) => c.offset)).toEqual([first]);
    f.setRaw(PciConfig.capabilitiesPointer, 1, 0x34);
    expect(new PciDevice(0, 3, 0).capabilities).toEqual([]);
  });

  it('ignores the two low bits of capability pointers', () => {
    const f = platform.addFunction({ device: 3 }, virtioNet);
    const first = f.addVendorCapability([1]);
    const second = f.addVendorCapability([2]);
    f.setRaw(PciConfig.capabilitiesPointer, 1, first | 3);
    f.setRaw(first + 1, 1, second | 1);
    expect(new PciDevice(0, 3, 0).capabilities.map((c) => c.offset)).toEqual([first, second]);
  });
});

describe('PciDevice command register', () => {
  it('sets and clears bits with setCommand', () => {
    const f = platform.addFunction({ device: 3 }, { ...virtioNet, command: PciCommand.io | PciCommand.interruptDisable });
    const device = new PciDevice(0, 3, 0);
    device.setCommand(PciCommand.busMaster, PciCommand.interruptDisable);
    expect(f.command).toBe(PciCommand.io | PciCommand.busMaster);
    device.setCommand(PciCommand.interruptDisable);
    expect(f.command).toBe(PciCommand.io | PciCommand.busMaster | PciCommand.interruptDisable);
    device.setCommand(0, PciCommand.io | PciCommand.busMaster);
    expect(f.command).toBe(PciCommand.interruptDisable);
  });

  it('enables memory, I/O and bus mastering by default, and only what is asked otherwise', () => {
    const f = platform.addFunction({ device: 3 }, { ...virtioNet, command: PciCommand.interruptDisable });
    const device = new PciDevice(0, 3, 0);
    device.enable();
    expect(f.command).toBe(PciCommand.io | PciCommand.memory | PciCommand.busMaster | PciCommand.interruptDisable);

    const g = platform.addFunction({ device: 4 }, virtioNet);
    const other = new PciDevice(0, 4, 0);
    other.enable({ memory: true });
    expect(g.command).toBe(PciCommand.memory);
    other.enable({ busMaster: true });
    expect(g.command).toBe(PciCommand.memory | PciCommand.busMaster);
  });
});

describe('PciDevice.barWindow', () => {
  it('opens an I/O BAR as ports at its base', () => {
    platform.addFunction({ device: 3 }, virtioNet).setBar(0, { kind: 'io', address: 0xc040, size: 32 });
    const window = new PciDevice(0, 3, 0).barWindow(0);
    expect([window.kind, window.base, window.size]).toEqual(['io', 0xc040, 32]);
    window.write8(0x12, 0x0f);
    window.write16(0x0e, 0x1234);
    window.write32(0x04, 0xdeadbeef);
    expect(platform.portWrites).toEqual([
      { address: 0xc052, width: 1, value: 0x0f },
      { address: 0xc04e, width: 2, value: 0x1234 },
      { address: 0xc044, width: 4, value: 0xdeadbeef },
    ]);
    expect([window.read8(0x12), window.read16(0x0e), window.read32(0x04)]).toEqual([0x0f, 0x1234, 0xdeadbeef]);
    expect(platform.mappedRanges).toEqual([]);
  });

  it('maps a memory BAR and reads and writes at base + offset', () => {
    platform.addFunction({ device: 3 }, virtioNet).setBar(1, { kind: 'mmio32', address: 0xfebd1000, size: 0x1000 });
    const window = new PciDevice(0, 3, 0).barWindow(1);
    expect([window.kind, window.base, window.size]).toEqual(['mmio', 0xfebd1000, 0x1000]);
    expect(platform.mappedRanges).toEqual([{ address: 0xfebd1000, size: 0x1000 }]);
    window.write32(0x10, 0xcafef00d);
    window.write16(0x14, 0xbeef);
    window.write8(0xfff, 0x7f);
    expect(platform.mmioWrites).toEqual([
      { address: 0xfebd1010, width: 4, value: 0xcafef00d },
      { address: 0xfebd1014, width: 2, value: 0xbeef },
      { address: 0xfebd1fff, width: 1, value: 0x7f },
    ]);
    expect([window.read32(0x10), window.read16(0x12), window.read8(0x14), window.read8(0xfff)]).toEqual([0xcafef00d, 0xcafe, 0xef, 0x7f]);
    // The fake refuses what the mapping does not cover.
    expect(() => window.read32(0x1000)).toThrow(/outside every mapped range/);
  });

  it('maps a 64-bit memory BAR above 4 GiB', () => {
    platform.addFunction({ device: 3 }, virtioNet).setBar(2, { kind: 'mmio64', address: 0x8_0000_0000, size: 0x4000 });
    const window = new PciDevice(0, 3, 0).barWindow(2);
    window.write32(0x3000, 1);
    expect(platform.mappedRanges).toEqual([{ address: 0x8_0000_0000, size: 0x4000 }]);
    expect(platform.mmioWrites).toEqual([{ address: 0x8_0000_3000, width: 4, value: 1 }]);
  });

  // 1 and 4 are unimplemented, 3 is the upper half of the 64-bit BAR 2, 6 does not exist.
  it.each([1, 3, 4, 6])('throws pci-bar-missing for BAR %i', (index) => {
    platform
      .addFunction({ device: 3 }, virtioNet)
      .setBar(0, { kind: 'io', address: 0xc000, size: 0x20 })
      .setBar(2, { kind: 'mmio64', address: 0x8_0000_0000, size: 0x4000 });
    const device = new PciDevice(0, 3, 0);
    const error = thrownBy(() => device.barWindow(index));
    expect(UosError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'pci-bar-missing' });
    expect((error as UosError).message).toContain('00:03.0 1af4:1000');
    expect(platform.mappedRanges).toEqual([]);
  });
});
