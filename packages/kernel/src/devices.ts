import { type NativePciFunction, isRunningOnUos, native } from '@uos/x86';
import { writeStdout } from './stdout.js';

/** A PCI function as found at boot. */
export type PciFunctionInfo = NativePciFunction;

/** Binds drivers to devices at boot: returns, per device it bound, the driver's description. */
export type DeviceBinder = (functions: readonly PciFunctionInfo[]) => Map<PciFunctionInfo, string>;

const binderKey = Symbol.for('uos.kernel.device-binder');
type Holder = { [binderKey]?: DeviceBinder };

/** Installed by @uos/hw when a driver registers; shared by every copy of the kernel in a bundle. */
export function setDeviceBinder(binder: DeviceBinder): void {
  (globalThis as Holder)[binderKey] = binder;
}

const classNames: Record<number, string> = {
  0x0100: 'SCSI controller',
  0x0101: 'IDE controller',
  0x0106: 'SATA controller',
  0x0108: 'NVMe controller',
  0x0200: 'Ethernet controller',
  0x0280: 'network controller',
  0x0300: 'VGA controller',
  0x0380: 'display controller',
  0x0403: 'audio device',
  0x0600: 'host bridge',
  0x0601: 'ISA bridge',
  0x0604: 'PCI bridge',
  0x0680: 'bridge',
  0x0700: 'serial controller',
  0x0780: 'communication controller',
  0x0880: 'system peripheral',
  0x0c03: 'USB controller',
  0x0c05: 'SMBus controller',
  0x00ff: 'unclassified device',
};
const familyNames: Record<number, string> = {
  0x00: 'unclassified device',
  0x01: 'storage controller',
  0x02: 'network controller',
  0x03: 'display controller',
  0x04: 'multimedia controller',
  0x05: 'memory controller',
  0x06: 'bridge',
  0x07: 'communication controller',
  0x08: 'system peripheral',
  0x09: 'input device',
  0x0c: 'serial bus controller',
  0xff: 'unassigned class',
};

const hex = (n: number, digits: number): string => n.toString(16).padStart(digits, '0');

/** "00:03.0", as lspci and QEMU print it. */
export function pciAddress(f: { bus: number; device: number; function: number }): string {
  return `${hex(f.bus, 2)}:${hex(f.device, 2)}.${f.function}`;
}

/** A PCI class name ("Ethernet controller"), from the class and subclass codes. */
export function pciClassName(classCode: number, subclass: number): string {
  return classNames[(classCode << 8) | subclass] ?? familyNames[classCode] ?? `class ${hex(classCode, 2)}${hex(subclass, 2)}`;
}

/**
 * At boot: lets the registered drivers bind, then prints the device table (bus:device.function,
 * vendor:device, class code and name, and the bound driver or "no driver"). A device nobody drives is
 * always named.
 */
export function probeDevices(): void {
  if (!isRunningOnUos()) return;
  const functions = native().pciFunctions();
  if (!functions.length) return;
  const binder = (globalThis as Holder)[binderKey];
  const bound = binder ? binder(functions) : new Map<PciFunctionInfo, string>();
  const lines = functions.map((f) => {
    const name = pciClassName(f.classCode, f.subclass).padEnd(22);
    const classCode = `${hex(f.classCode, 2)}${hex(f.subclass, 2)}`;
    return `  ${pciAddress(f)}  ${hex(f.vendorId, 4)}:${hex(f.deviceId, 4)}  ${classCode}  ${name}  ${bound.get(f) ?? 'no driver'}\n`;
  });
  writeStdout(`uos: PCI devices:\n${lines.join('')}`);
}
