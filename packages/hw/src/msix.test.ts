import { UosError } from '@uos/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MsixTable, routeIntx } from './msix.js';
import { PciDevice } from './pci.js';
import { setHwPlatform } from './platform.js';
import {
  type FakeFunctionOptions,
  type FakePciFunction,
  FakePlatform,
  type MsixCapabilityOptions,
  thrownBy,
} from './test/fake-platform.js';

let platform: FakePlatform;

beforeEach(() => {
  platform = new FakePlatform();
  setHwPlatform(platform);
});

afterEach(() => {
  setHwPlatform(undefined);
});

const identity: FakeFunctionOptions = { vendorId: 0x1af4, deviceId: 0x1041, classCode: 0x02, interruptLine: 11, interruptPin: 1 };
const BAR_BASE = 0xfe000000;
const BAR_SIZE = 0x8000;
const TABLE_OFFSET = 0x1000;

/** A function with a 64-bit memory BAR 4 holding an MSI-X table of `tableSize` entries at 0x1000. */
function msixDevice(options: Partial<MsixCapabilityOptions> = {}): { f: FakePciFunction; capability: number; device: PciDevice } {
  const f = platform
    .addFunction({ device: 3 }, identity)
    .setBar(0, { kind: 'io', address: 0xc000, size: 0x40 })
    .setBar(4, { kind: 'mmio64', address: BAR_BASE, size: BAR_SIZE, prefetchable: true });
  f.addVendorCapability([1, 0, 0, 0]);
  const capability = f.addMsixCapability({
    tableSize: 8,
    tableBar: 4,
    tableOffset: TABLE_OFFSET,
    pendingBitArrayOffset: 0x2000,
    ...options,
  });
  return { f, capability, device: new PciDevice(0, 3, 0) };
}

function open(device: PciDevice): MsixTable {
  const table = MsixTable.open(device);
  if (!table) throw new Error('expected an MSI-X table');
  return table;
}

function expectUosError(action: () => unknown, code: string): void {
  const error = thrownBy(action);
  expect(UosError.isInstance(error), `expected a UosError, got ${String(error)}`).toBe(true);
  expect((error as UosError).code).toBe(code);
}

describe('MsixTable.open', () => {
  it('returns undefined for a device without capabilities', () => {
    platform.addFunction({ device: 3 }, identity).setBar(4, { kind: 'mmio32', address: BAR_BASE, size: BAR_SIZE });
    expect(MsixTable.open(new PciDevice(0, 3, 0))).toBeUndefined();
    expect(platform.mappedRanges).toEqual([]);
  });

  it('returns undefined for a device whose capabilities include no MSI-X', () => {
    const f = platform.addFunction({ device: 3 }, identity);
    f.addVendorCapability([1, 0, 0, 0]);
    f.addCapability(0x05, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(MsixTable.open(new PciDevice(0, 3, 0))).toBeUndefined();
  });

  it('takes the size from message control and maps the BAR the BIR names', () => {
    const { device } = msixDevice({ tableSize: 8 });
    expect(open(device).size).toBe(8);
    expect(platform.mappedRanges).toEqual([{ address: BAR_BASE, size: BAR_SIZE }]);
  });

  it.each([1, 64, 2048])('reads a table of %i entries', (tableSize) => {
    const { device } = msixDevice({ tableSize, tableOffset: 0, control: 1 << 14 });
    expect(open(device).size).toBe(tableSize);
  });

  it('accepts a table that ends exactly at the end of its BAR', () => {
    const { device } = msixDevice({ tableSize: 16, tableOffset: BAR_SIZE - 16 * 16 });
    const table = open(device);
    table.route(15, 0x40);
    expect(platform.mmioWrites[platform.mmioWrites.length - 1]).toEqual({ address: BAR_BASE + BAR_SIZE - 4, width: 4, value: 0 });
  });

  it('throws msix-table-invalid for a table that runs past the end of its BAR', () => {
    const { device } = msixDevice({ tableSize: 16, tableOffset: BAR_SIZE - 15 * 16 });
    expectUosError(() => MsixTable.open(device), 'msix-table-invalid');
  });

  it('throws msix-table-invalid for a table at an offset beyond its BAR', () => {
    const { device } = msixDevice({ tableSize: 1, tableOffset: 0x8000 });
    expectUosError(() => MsixTable.open(device), 'msix-table-invalid');
  });

  it('throws msix-table-invalid for a table in an I/O BAR', () => {
    const { device } = msixDevice({ tableSize: 2, tableBar: 0, tableOffset: 0 });
    expectUosError(() => MsixTable.open(device), 'msix-table-invalid');
  });

  it('throws msix-table-invalid for a BIR naming no BAR', () => {
    const { device } = msixDevice({ tableBar: 2 });
    expectUosError(() => MsixTable.open(device), 'msix-table-invalid');
  });
});

describe('MsixTable entries', () => {
  const entry = (index: number): number => BAR_BASE + TABLE_OFFSET + index * 16;

  it('routes an entry: masked first, then address, upper address, data, then unmasked', () => {
    const { device } = msixDevice();
    const table = open(device);
    platform.localApicId = 3;
    table.route(5, 0x41);
    expect(platform.mmioWrites).toEqual([
      { address: entry(5) + 12, width: 4, value: 1 },
      { address: entry(5), width: 4, value: 0xfee03000 },
      { address: entry(5) + 4, width: 4, value: 0 },
      { address: entry(5) + 8, width: 4, value: 0x41 },
      { address: entry(5) + 12, width: 4, value: 0 },
    ]);
    expect(platform.memory.read(entry(5), 4)).toBe(0xfee03000);
  });

  it('puts the local APIC ID in bits 12..19 of the message address', () => {
    const { device } = msixDevice();
    const table = open(device);
    platform.localApicId = 0xff;
    table.route(0, 0xef);
    expect(platform.memory.read(entry(0), 4)).toBe(0xfeeff000);
    platform.localApicId = 0;
    table.route(7, 0x40);
    expect(platform.memory.read(entry(7), 4)).toBe(0xfee00000);
    expect(platform.memory.read(entry(7) + 8, 4)).toBe(0x40);
  });

  it.each([-1, 8, 1000])('refuses to route entry %i of 8 with msix-entry-invalid', (index) => {
    const { device } = msixDevice();
    const table = open(device);
    expectUosError(() => table.route(index, 0x40), 'msix-entry-invalid');
    expect(platform.mmioWrites).toEqual([]);
  });

  it('masks and unmasks an entry through its vector-control word', () => {
    const { device } = msixDevice();
    const table = open(device);
    table.mask(2);
    table.unmask(6);
    expect(platform.mmioWrites).toEqual([
      { address: entry(2) + 12, width: 4, value: 1 },
      { address: entry(6) + 12, width: 4, value: 0 },
    ]);
  });

  // Bug: route() checks the index, mask() and unmask() do not, so mask(8) of an 8-entry table writes the
  // word after the table (here inside the BAR, e.g. the pending-bit array or another register) and
  // mask(-1) writes the word before it.
  it('refuses to mask or unmask an entry outside the table', () => {
    const { device } = msixDevice();
    const table = open(device);
    expectUosError(() => table.mask(8), 'msix-entry-invalid');
    expectUosError(() => table.unmask(-1), 'msix-entry-invalid');
    expect(platform.mmioWrites).toEqual([]);
  });
});

describe('MsixTable enable and disable', () => {
  it('enable sets bit 15 and clears the function mask (bit 14) in message control', () => {
    const { f, capability, device } = msixDevice({ tableSize: 8, control: 1 << 14 });
    expect(f.read(capability + 2, 2)).toBe(0x4007);
    open(device).enable();
    expect(f.read(capability + 2, 2)).toBe(0x8007);
  });

  it('disable clears bit 15 and leaves the function mask as it is', () => {
    const { f, capability, device } = msixDevice({ tableSize: 8 });
    const table = open(device);
    table.enable();
    f.setRaw(capability + 2, 2, 0xc007);
    table.disable();
    expect(f.read(capability + 2, 2)).toBe(0x4007);
    f.setRaw(capability + 2, 2, 0x8007);
    table.disable();
    expect(f.read(capability + 2, 2)).toBe(0x0007);
  });

  it('writes message control as one 16-bit access', () => {
    const { f, capability, device } = msixDevice({ tableSize: 8 });
    open(device).enable();
    expect(platform.configWritesTo(f).filter((w) => w.offset >= capability)).toEqual([
      expect.objectContaining({ offset: capability + 2, width: 2, value: 0x8007 }),
    ]);
  });
});

describe('MsixTable.enableVectors', () => {
  it('throws msix-entry-invalid for more vectors than entries, before allocating any', () => {
    const { f, capability, device } = msixDevice({ tableSize: 4 });
    const table = open(device);
    // Outside an image, reaching irq.allocate would throw not-on-uos instead.
    expectUosError(() => table.enableVectors(5), 'msix-entry-invalid');
    expect(platform.mmioWrites).toEqual([]);
    expect(f.read(capability + 2, 2) & 0x8000).toBe(0);
  });

  it('asks the kernel for vectors when the count fits (outside an image: not-on-uos, table untouched)', () => {
    const { device } = msixDevice({ tableSize: 4 });
    const table = open(device);
    expectUosError(() => table.enableVectors(4), 'not-on-uos');
    expect(platform.mmioWrites).toEqual([]);
  });
});

describe('routeIntx', () => {
  it('throws pci-no-interrupt for a device without an interrupt pin', () => {
    platform.addFunction({ device: 3 }, { ...identity, interruptPin: 0, interruptLine: 11 });
    expectUosError(() => routeIntx(new PciDevice(0, 3, 0)), 'pci-no-interrupt');
  });

  it.each([0xff, 0])('throws pci-no-interrupt when the firmware assigned line %i', (line) => {
    platform.addFunction({ device: 3 }, { ...identity, interruptPin: 1, interruptLine: line });
    const error = thrownBy(() => routeIntx(new PciDevice(0, 3, 0)));
    expect(error).toMatchObject({ code: 'pci-no-interrupt' });
    expect((error as Error).message).toContain('assigned no interrupt line');
  });

  it('asks the kernel to route an assigned line (outside an image: not-on-uos)', () => {
    platform.addFunction({ device: 3 }, { ...identity, interruptPin: 1, interruptLine: 11 });
    expectUosError(() => routeIntx(new PciDevice(0, 3, 0)), 'not-on-uos');
  });
});
