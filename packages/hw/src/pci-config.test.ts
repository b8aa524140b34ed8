import { afterEach, describe, expect, it } from 'vitest';
import { HwError } from './errors.js';
import { PciCapability, PciDevice } from './pci.js';
import { ecamConfigAccess, noConfigAccess, portConfigAccess } from './pci-config.js';
import { configAccessFor, setHwPlatform, withConfigAccess } from './platform.js';
import { FakePlatform, thrownBy } from './test/fake-platform.js';

// microvm's layout (QEMU hw/i386/microvm.h): ECAM at 0xE0000000 for buses 0..255.
const region = { base: 0xe0000000, busStart: 0, busEnd: 255 };

function machine() {
  const fake = new FakePlatform();
  fake.attachEcam(region);
  const net = fake.addFunction({ device: 3 }, { vendorId: 0x1af4, deviceId: 0x1041, classCode: 0x02, revision: 1 });
  const bridgeSide = fake.addFunction({ bus: 2, device: 31, function: 7 }, { vendorId: 0x8086, deviceId: 0x1234 });
  return { fake, net, bridgeSide, ecam: ecamConfigAccess(region, fake) };
}

describe('ECAM configuration access', () => {
  afterEach(() => setHwPlatform(undefined));

  it('reads 8, 16 and 32 bits at their byte lanes', () => {
    const { net, ecam } = machine();
    net.setRaw(0x40, 4, 0xa1b2c3d4);
    expect(ecam.read(0, 3, 0, 0x00, 4)).toBe(0x10411af4);
    expect(ecam.read(0, 3, 0, 0x00, 2)).toBe(0x1af4);
    expect(ecam.read(0, 3, 0, 0x02, 2)).toBe(0x1041);
    expect(ecam.read(0, 3, 0, 0x0b, 1)).toBe(0x02);
    expect(ecam.read(0, 3, 0, 0x40, 4)).toBe(0xa1b2c3d4);
    expect([0x40, 0x41, 0x42, 0x43].map((o) => ecam.read(0, 3, 0, o, 1))).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
    expect([0x40, 0x42].map((o) => ecam.read(0, 3, 0, o, 2))).toEqual([0xc3d4, 0xa1b2]);
  });

  it('writes 8, 16 and 32 bits, and the device keeps only its writable bits', () => {
    const { net, ecam } = machine();
    net.setWritable(0x40, 4, 0xffffffff);
    ecam.write(0, 3, 0, 0x40, 4, 0x11223344);
    expect(net.read(0x40, 4)).toBe(0x11223344);
    ecam.write(0, 3, 0, 0x42, 2, 0xbeef);
    expect(net.read(0x40, 4)).toBe(0xbeef3344);
    ecam.write(0, 3, 0, 0x41, 1, 0x99);
    expect(net.read(0x40, 4)).toBe(0xbeef9944);
    ecam.write(0, 3, 0, 0x00, 2, 0x1234); // the vendor ID is read-only
    expect(ecam.read(0, 3, 0, 0x00, 2)).toBe(0x1af4);
    ecam.write(0, 3, 0, 0x04, 2, 0xffff); // the command register keeps bits 0..10
    expect(ecam.read(0, 3, 0, 0x04, 2)).toBe(0x07ff);
  });

  it('addresses bus << 20 | device << 15 | function << 12 | offset, mapping each function once', () => {
    const { fake, ecam } = machine();
    expect(ecam.read(2, 31, 7, 0x00, 4)).toBe(0x12348086);
    expect(ecam.read(2, 31, 7, 0x02, 2)).toBe(0x1234);
    const address = 0xe0000000 + (2 << 20) + (31 << 15) + (7 << 12);
    expect(fake.mappedRanges).toEqual([{ address, size: 4096 }]);
    ecam.write(2, 31, 7, 0x04, 2, 0x0006);
    expect(fake.mmioWrites).toEqual([{ address: address + 4, width: 2, value: 6 }]);
    expect(fake.mappedRanges).toHaveLength(1);
  });

  it('reads absent functions and buses outside the region as all ones, and ignores writes to them', () => {
    const { fake, ecam } = machine();
    expect(ecam.read(0, 4, 0, 0x00, 4)).toBe(0xffffffff);
    expect(ecam.read(0, 3, 1, 0x00, 2)).toBe(0xffff);
    expect(ecam.read(1, 3, 0, 0x0e, 1)).toBe(0xff);
    const narrow = ecamConfigAccess({ base: 0xe0000000, busStart: 0, busEnd: 1 }, fake);
    expect(narrow.read(2, 31, 7, 0x00, 4)).toBe(0xffffffff);
    narrow.write(2, 31, 7, 0x04, 2, 6);
    expect(fake.mappedRanges.every((r) => r.address < 0xe0200000)).toBe(true);
    ecam.write(0, 4, 0, 0x04, 2, 6);
    expect(ecam.read(0, 4, 0, 0x04, 2)).toBe(0xffff);
  });

  it('reaches the 4 KiB extended configuration space, and refuses what no bus can do', () => {
    const { ecam } = machine();
    expect(ecam.size).toBe(4096);
    expect(ecam.read(0, 3, 0, 0x100, 4)).toBe(0); // no extended capabilities
    expect(ecam.read(0, 3, 0, 0xffc, 4)).toBe(0);
    for (const [bus, device, fn, offset, width] of [
      [0, 3, 0, 0x1000, 1],
      [0, 3, 0, 0xffe, 4],
      [0, 3, 0, 0x41, 2],
      [0, 32, 0, 0, 4],
      [0, 3, 8, 0, 4],
      [256, 0, 0, 0, 4],
      [0, 3, 0, 0, 3],
    ] as const) {
      const error = thrownBy(() => ecam.read(bus, device, fn, offset, width as 4));
      expect(HwError.isInstance(error) && error.code).toBe('pci-config-invalid');
    }
    expect(thrownBy(() => ecamConfigAccess({ base: 0xe0000800, busStart: 0, busEnd: 0 }, new FakePlatform()))).toBeInstanceOf(HwError);
    expect(thrownBy(() => ecamConfigAccess({ base: 0xe0000000, busStart: 4, busEnd: 3 }, new FakePlatform()))).toBeInstanceOf(HwError);
  });

  it('puts buses above busStart at their offset from the region base', () => {
    const fake = new FakePlatform();
    fake.attachEcam({ base: 0xb0000000, busStart: 0x10, busEnd: 0x1f });
    fake.addFunction({ bus: 0x12, device: 1 }, { vendorId: 0x15ad, deviceId: 0x07b0 });
    const ecam = ecamConfigAccess({ base: 0xb0000000, busStart: 0x10, busEnd: 0x1f }, fake);
    expect(ecam.read(0x12, 1, 0, 0, 4)).toBe(0x07b015ad);
    expect(fake.mappedRanges[0]!.address).toBe(0xb0000000 + (2 << 20) + (1 << 15));
    expect(ecam.read(0x02, 1, 0, 0, 4)).toBe(0xffffffff);
  });

  it('serves PciDevice unchanged: BARs sized by probing and the capability list', () => {
    const { fake, net, ecam } = machine();
    net.setBar(1, { kind: 'mmio32', address: 0xc0001000, size: 0x1000 });
    net.setBar(4, { kind: 'mmio64', address: 0xc0004000, size: 0x4000, prefetchable: true });
    net.addMsixCapability({ tableSize: 3, tableBar: 1, tableOffset: 0 });
    setHwPlatform(withConfigAccess(fake, ecam));
    const device = new PciDevice(0, 3, 0);
    expect(device.toString()).toBe('00:03.0 1af4:1041');
    expect(device.bars[1]).toEqual({ index: 1, kind: 'mmio32', address: 0xc0001000, size: 0x1000, prefetchable: false });
    expect(device.bars[4]).toEqual({ index: 4, kind: 'mmio64', address: 0xc0004000, size: 0x4000, prefetchable: true });
    expect(device.findCapability(PciCapability.msix)).toBeDefined();
    device.enable();
    expect(net.command & 7).toBe(7);
    expect(fake.configReads).toHaveLength(0); // everything went through ECAM
  });
});

/** The legacy mechanism as a PC's host bridge answers it: an address latch at 0xCF8, data at 0xCFC..0xCFF. */
function legacyPorts(fake: FakePlatform): void {
  let latch = 0;
  fake.attachPorts(0xcf8, 8, {
    read(offset, width) {
      if (offset < 4) return latch;
      if (!(latch & 0x80000000)) return width === 4 ? 0xffffffff : width === 2 ? 0xffff : 0xff;
      return fake.configRead((latch >>> 16) & 0xff, (latch >>> 11) & 31, (latch >>> 8) & 7, (latch & 0xfc) + offset - 4, width);
    },
    write(offset, width, value) {
      if (offset < 4) latch = value >>> 0;
      else fake.configWrite((latch >>> 16) & 0xff, (latch >>> 11) & 31, (latch >>> 8) & 7, (latch & 0xfc) + offset - 4, width, value);
    },
  });
}

describe('legacy port configuration access', () => {
  it('selects the function in 0xCF8 and moves data through the byte lanes of 0xCFC', () => {
    const fake = new FakePlatform();
    legacyPorts(fake);
    const net = fake.addFunction({ bus: 1, device: 5, function: 2 }, { vendorId: 0x1af4, deviceId: 0x1000 });
    net.setWritable(0x40, 4, 0xffffffff);
    const ports = portConfigAccess(fake);
    expect(ports.size).toBe(256);
    expect(ports.read(1, 5, 2, 0x00, 4)).toBe(0x10001af4);
    expect(ports.read(1, 5, 2, 0x02, 2)).toBe(0x1000);
    ports.write(1, 5, 2, 0x43, 1, 0xab);
    expect(net.read(0x40, 4)).toBe(0xab000000);
    expect(fake.portWrites[0]).toEqual({ address: 0xcf8, width: 4, value: (0x80000000 | (1 << 16) | (5 << 11) | (2 << 8)) >>> 0 });
    expect(fake.portWrites[fake.portWrites.length - 1]).toEqual({ address: 0xcff, width: 1, value: 0xab });
    expect(ports.read(0, 0, 0, 0, 4)).toBe(0xffffffff);
    expect(HwError.isInstance(thrownBy(() => ports.read(0, 0, 0, 0x100, 4)))).toBe(true);
  });
});

describe('choosing the mechanism', () => {
  it('follows what the boot code found', () => {
    const fake = new FakePlatform();
    expect(configAccessFor({ mechanism: 'ports', source: 'ports' }, fake).mechanism).toBe('ports');
    const ecam = configAccessFor({ mechanism: 'ecam', source: 'microvm', ecamBase: 0xe0000000, busStart: 0, busEnd: 255 }, fake);
    expect(ecam.mechanism).toBe('ecam');
    expect(ecam.size).toBe(4096);
    const none = configAccessFor({ mechanism: 'none', source: 'none' }, fake);
    expect(none).toBe(noConfigAccess);
    expect(none.read(0, 0, 0, 0, 2)).toBe(0xffff);
  });
});
