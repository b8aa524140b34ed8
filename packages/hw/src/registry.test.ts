import { type DeviceBinder, type PciFunctionInfo, pciAddress } from '@uos/kernel';
import { UosError } from '@uos/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_OFFLOADS, type Nic, NicStats } from './nic.js';
import type { PciDevice } from './pci.js';
import { setHwPlatform } from './platform.js';
import { type NicDriver, nic, nics, registerNic } from './registry.js';
import { FakePlatform, thrownBy } from './test/fake-platform.js';

const registryKey = Symbol.for('uos.hw.registry');
const binderKey = Symbol.for('uos.kernel.device-binder');
const holder = globalThis as unknown as Record<symbol, unknown>;

let platform: FakePlatform;

beforeEach(() => {
  delete holder[registryKey];
  delete holder[binderKey];
  platform = new FakePlatform();
  setHwPlatform(platform);
});

afterEach(() => {
  delete holder[registryKey];
  delete holder[binderKey];
  setHwPlatform(undefined);
});

let statsSerial = 0;

/** A minimal Nic: what the registry and the binder need, nothing more. */
function fakeNic(name: string, driver: string, device: PciDevice | undefined): Nic {
  return {
    name,
    driver,
    device,
    mac: new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
    mtu: 1500,
    linkUp: true,
    stats: new NicStats(`registry-test-${statsSerial++}`),
    offloads: NO_OFFLOADS,
    transmit: () => ({ ok: true }),
    onReceive: () => () => {},
    onReceiveBatchEnd: () => () => {},
    onWritable: () => () => {},
    onLinkChange: () => () => {},
  };
}

interface Created {
  driver: string;
  address: string;
  ifname: string;
}

/** A driver that records what it was asked to create. */
function driver(name: string, match: Pick<NicDriver, 'vendor' | 'device' | 'predicate'>, created: Created[]): NicDriver {
  return {
    name,
    ...match,
    create(device, context) {
      created.push({ driver: name, address: device.address, ifname: context.ifname });
      return fakeNic(context.ifname, name, device);
    },
  };
}

function binder(): DeviceBinder {
  const installed = holder[binderKey];
  if (typeof installed !== 'function') throw new Error('no device binder installed');
  return installed as DeviceBinder;
}

/** The binder's answers, by PCI address. */
function bindAll(functions: readonly PciFunctionInfo[] = platform.functions()): Record<string, string> {
  const bound = binder()(functions);
  const byAddress: Record<string, string> = {};
  for (const [f, description] of bound) byAddress[pciAddress(f)] = description;
  return byAddress;
}

function expectUosError(action: () => unknown, code: string): void {
  const error = thrownBy(action);
  expect(UosError.isInstance(error), `expected a UosError, got ${String(error)}`).toBe(true);
  expect((error as UosError).code).toBe(code);
}

const create = (): Nic => fakeNic('eth0', 'x', undefined);

describe('registerNic validation', () => {
  it.each([
    ['no driver at all', undefined],
    ['no create', { name: 'a', vendor: 0x1af4, device: 0x1000 }],
    ['create that is no function', { name: 'a', vendor: 0x1af4, device: 0x1000, create: 'yes' }],
    ['no name', { vendor: 0x1af4, device: 0x1000, create }],
    ['no vendor', { name: 'a', device: 0x1000, create }],
    ['a vendor that is no number', { name: 'a', vendor: '1af4', device: 0x1000, create }],
    ['neither device nor predicate', { name: 'a', vendor: 0x1af4, create }],
  ])('throws driver-invalid for %s and registers nothing', (_, candidate) => {
    expectUosError(() => registerNic(candidate as unknown as NicDriver), 'driver-invalid');
    expect(holder[binderKey]).toBeUndefined();
    expect((holder[registryKey] as { nicDrivers?: unknown[] } | undefined)?.nicDrivers ?? []).toEqual([]);
  });

  it('accepts a device list, a single device or a predicate, and installs the kernel binder', () => {
    registerNic({ name: 'list', vendor: 1, device: [1, 2], create });
    registerNic({ name: 'single', vendor: 2, device: 3, create });
    registerNic({ name: 'predicate', vendor: 3, predicate: () => true, create });
    expect(typeof holder[binderKey]).toBe('function');
    const registry = holder[registryKey] as { nicDrivers: NicDriver[] };
    expect(registry.nicDrivers.map((d) => d.name)).toEqual(['list', 'single', 'predicate']);
  });
});

describe('the device binder', () => {
  it('binds a driver by device list and names the NICs eth0, eth1 in probe order', () => {
    platform.addFunction({ device: 3 }, { vendorId: 0x1af4, deviceId: 0x1000 });
    platform.addFunction({ device: 4 }, { vendorId: 0x1af4, deviceId: 0x1041 });
    const created: Created[] = [];
    registerNic(driver('virtio-net', { vendor: 0x1af4, device: [0x1000, 0x1041] }, created));
    expect(bindAll()).toEqual({ '00:03.0': 'virtio-net (eth0)', '00:04.0': 'virtio-net (eth1)' });
    expect(created).toEqual([
      { driver: 'virtio-net', address: '00:03.0', ifname: 'eth0' },
      { driver: 'virtio-net', address: '00:04.0', ifname: 'eth1' },
    ]);
  });

  it('binds a driver by a single device ID and skips other device IDs of the vendor', () => {
    platform.addFunction({ device: 3 }, { vendorId: 0x15ad, deviceId: 0x0405 });
    platform.addFunction({ device: 4 }, { vendorId: 0x15ad, deviceId: 0x07b0 });
    const created: Created[] = [];
    registerNic(driver('vmxnet3', { vendor: 0x15ad, device: 0x07b0 }, created));
    expect(bindAll()).toEqual({ '00:04.0': 'vmxnet3 (eth0)' });
    expect(created.map((c) => c.address)).toEqual(['00:04.0']);
  });

  it('binds a driver by predicate, which sees the PciDevice at the function location', () => {
    platform.addFunction({ device: 3 }, { vendorId: 0x8086, deviceId: 0x100e, revision: 2 });
    platform.addFunction({ bus: 1, device: 0, function: 1 }, { vendorId: 0x8086, deviceId: 0x10d3, revision: 3 });
    const seen: string[] = [];
    const created: Created[] = [];
    registerNic(
      driver(
        'e1000',
        {
          vendor: 0x8086,
          predicate: (device) => {
            seen.push(device.toString());
            return device.revision >= 3;
          },
        },
        created,
      ),
    );
    expect(bindAll()).toEqual({ '01:00.1': 'e1000 (eth0)' });
    expect(seen).toEqual(['00:03.0 8086:100e', '01:00.1 8086:10d3']);
  });

  it('leaves functions of other vendors alone, without touching their configuration space', () => {
    const host = platform.addFunction({ device: 1 }, { vendorId: 0x8086, deviceId: 0x1237 });
    platform.addFunction({ device: 3 }, { vendorId: 0x1af4, deviceId: 0x1000 });
    const other = platform.addFunction({ device: 5 }, { vendorId: 0x1234, deviceId: 0x1111 });
    const created: Created[] = [];
    registerNic(driver('virtio-net', { vendor: 0x1af4, device: 0x1000 }, created));
    expect(bindAll()).toEqual({ '00:03.0': 'virtio-net (eth0)' });
    expect(platform.configWrites).toEqual([]);
    expect(platform.configReadsOf(host)).toEqual([]);
    expect(platform.configReadsOf(other)).toEqual([]);
  });

  it('binds with the first registered driver that matches', () => {
    platform.addFunction({ device: 3 }, { vendorId: 0x1af4, deviceId: 0x1000 });
    platform.addFunction({ device: 4 }, { vendorId: 0x1af4, deviceId: 0x1041 });
    const created: Created[] = [];
    registerNic(driver('legacy-only', { vendor: 0x1af4, device: 0x1000 }, created));
    registerNic(driver('any-virtio', { vendor: 0x1af4, predicate: () => true }, created));
    expect(bindAll()).toEqual({ '00:03.0': 'legacy-only (eth0)', '00:04.0': 'any-virtio (eth1)' });
  });

  it('reports a driver whose create throws and goes on with the next function', () => {
    platform.addFunction({ device: 3 }, { vendorId: 0x1af4, deviceId: 0x1000 });
    platform.addFunction({ device: 4 }, { vendorId: 0x1af4, deviceId: 0x1041 });
    platform.addFunction({ device: 5 }, { vendorId: 0x1af4, deviceId: 0x1000 });
    const contexts: string[] = [];
    registerNic({
      name: 'virtio-net',
      vendor: 0x1af4,
      device: [0x1000, 0x1041],
      create(device, context) {
        contexts.push(`${device.address} ${context.ifname}`);
        if (device.deviceId === 0x1041) throw new UosError('virtio-feature', 'VIRTIO_F_VERSION_1 not offered');
        return fakeNic(context.ifname, 'virtio-net', device);
      },
    });
    expect(bindAll()).toEqual({
      '00:03.0': 'virtio-net (eth0)',
      '00:04.0': 'virtio-net: failed: VIRTIO_F_VERSION_1 not offered',
      '00:05.0': 'virtio-net (eth1)',
    });
    // The failed function offered eth1; nobody took it, so the next NIC got it.
    expect(contexts).toEqual(['00:03.0 eth0', '00:04.0 eth1', '00:05.0 eth1']);
    expect(nics().map((n) => n.name)).toEqual(['eth0', 'eth1']);
  });

  it('reports a thrown value that is no Error as its string', () => {
    platform.addFunction({ device: 3 }, { vendorId: 0x1af4, deviceId: 0x1000 });
    registerNic({
      name: 'flaky',
      vendor: 0x1af4,
      device: 0x1000,
      create() {
        throw 'no queues';
      },
    });
    expect(bindAll()).toEqual({ '00:03.0': 'flaky: failed: no queues' });
    expect(nics()).toEqual([]);
  });

  it('keys its answers by the very PciFunctionInfo objects the kernel passed', () => {
    platform.addFunction({ device: 3 }, { vendorId: 0x1af4, deviceId: 0x1000 });
    registerNic(driver('virtio-net', { vendor: 0x1af4, device: 0x1000 }, []));
    const functions = platform.functions();
    const bound = binder()(functions);
    expect(bound.get(functions[0]!)).toBe('virtio-net (eth0)');
  });

  it('binds nothing when no registered driver matches', () => {
    platform.addFunction({ device: 3 }, { vendorId: 0x1af4, deviceId: 0x1050 });
    registerNic(driver('virtio-net', { vendor: 0x1af4, device: [0x1000, 0x1041] }, []));
    expect(binder()(platform.functions()).size).toBe(0);
    expect(nics()).toEqual([]);
  });
});

describe('nics and nic', () => {
  beforeEach(() => {
    platform.addFunction({ device: 3 }, { vendorId: 0x1af4, deviceId: 0x1000 });
    platform.addFunction({ device: 4 }, { vendorId: 0x15ad, deviceId: 0x07b0 });
  });

  it('are empty before binding', () => {
    expect(nics()).toEqual([]);
    expect(nic()).toBeUndefined();
    expect(nic('eth1')).toBeUndefined();
  });

  it('list the bound NICs in order and find them by name (eth0 by default)', () => {
    registerNic(driver('virtio-net', { vendor: 0x1af4, device: 0x1000 }, []));
    registerNic(driver('vmxnet3', { vendor: 0x15ad, device: 0x07b0 }, []));
    bindAll();
    expect(nics().map((n) => [n.name, n.driver, n.device?.address])).toEqual([
      ['eth0', 'virtio-net', '00:03.0'],
      ['eth1', 'vmxnet3', '00:04.0'],
    ]);
    expect(nic()).toBe(nics()[0]);
    expect(nic('eth1')).toBe(nics()[1]);
    expect(nic('eth2')).toBeUndefined();
  });

  it('live on the shared registry symbol, so a reset registry has none', () => {
    registerNic(driver('virtio-net', { vendor: 0x1af4, device: 0x1000 }, []));
    bindAll();
    expect((holder[registryKey] as { nics: Nic[] }).nics).toBe(nics());
    delete holder[registryKey];
    expect(nics()).toEqual([]);
  });
});
