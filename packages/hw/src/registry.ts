import { type PciFunctionInfo, setDeviceBinder } from '@uos/kernel';
import type { Nic } from './nic.js';
import { PciDevice } from './pci.js';
import { HwError } from './errors.js';

/** A NIC driver, as its entry module registers it. */
export interface NicDriver {
  /** Shown in the boot device table. */
  name: string;
  /** The PCI vendor ID it drives. */
  vendor: number;
  /** Device IDs it drives; or a predicate for anything subtler. One of the two is required. */
  device?: number | readonly number[];
  predicate?: (device: PciDevice) => boolean;
  /** Makes the NIC for a matching device (may throw: the boot table then says why). */
  create(device: PciDevice, context: { ifname: string }): Nic;
}

interface Registry {
  nicDrivers: NicDriver[];
  nics: Nic[];
}

/** Shared by every copy of @uos/hw in a bundle, so a driver built against another copy still registers. */
const registryKey = Symbol.for('uos.hw.registry');

function registry(): Registry {
  const holder = globalThis as { [registryKey]?: Registry };
  holder[registryKey] ??= { nicDrivers: [], nics: [] };
  return holder[registryKey]!;
}

function matches(driver: NicDriver, device: PciDevice): boolean {
  if (device.vendorId !== driver.vendor) return false;
  if (driver.predicate) return driver.predicate(device);
  const ids = typeof driver.device === 'number' ? [driver.device] : (driver.device ?? []);
  return ids.includes(device.deviceId);
}

function bind(functions: readonly PciFunctionInfo[]): Map<PciFunctionInfo, string> {
  const r = registry();
  const bound = new Map<PciFunctionInfo, string>();
  for (const f of functions) {
    const candidates = r.nicDrivers.filter((d) => d.vendor === f.vendorId);
    if (!candidates.length) continue;
    const device = new PciDevice(f.bus, f.device, f.function);
    let driver: NicDriver | undefined;
    try {
      driver = candidates.find((d) => matches(d, device));
    } catch (error) {
      bound.set(f, `driver predicate failed: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (!driver) continue;
    const ifname = `eth${r.nics.length}`;
    try {
      const nic = driver.create(device, { ifname });
      r.nics.push(nic);
      bound.set(f, `${driver.name} (${nic.name})`);
    } catch (error) {
      bound.set(f, `${driver.name}: failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return bound;
}

/**
 * Registers a NIC driver. Call it from the driver's entry module (a side-effect import), so importing the
 * driver is what puts it in the image; at boot the kernel probes PCI and binds registered drivers.
 */
export function registerNic(driver: NicDriver): void {
  if (!driver || typeof driver.create !== 'function' || typeof driver.name !== 'string' || typeof driver.vendor !== 'number') {
    throw new HwError('driver-invalid', 'registerNic needs { name, vendor, device | predicate, create }');
  }
  const ids = typeof driver.device === 'number' ? [driver.device] : driver.device;
  if ((ids === undefined || ids.length === 0) && !driver.predicate) {
    throw new HwError('driver-invalid', `driver ${driver.name} names neither device IDs nor a predicate`);
  }
  registry().nicDrivers.push(driver);
  setDeviceBinder(bind);
}

/** The NICs bound at boot, eth0 first. */
export function nics(): readonly Nic[] {
  return registry().nics;
}

/** A NIC by name (default eth0), or undefined. */
export function nic(name = 'eth0'): Nic | undefined {
  return registry().nics.find((n) => n.name === name);
}
