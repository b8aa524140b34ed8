/**
 * @uos/driver-vmxnet3: the driver for VMware's paravirtual NIC, vmxnet3 (PCI 15AD:07B0), as VMware
 * hypervisors and QEMU (`-device vmxnet3`) provide it. Importing this module (`import
 * '@uos/driver-vmxnet3'`) registers it with @uos/hw; a service that does not import it carries none of
 * its code.
 *
 * It speaks revision 1 of the device interface: the driver-shared area, one transmit and one receive
 * queue with completion rings and generation bits, the receive ring kept full, transmit completions
 * reclaimed from the transmit interrupt; MSI-X (one vector each for events, receive and transmit) with MSI
 * and INTx as fallbacks, each interrupt auto-masked by the device and unmasked once its ring is drained;
 * link changes and queue errors through the event interrupt. No polling.
 *
 * Invariants: BAR 0 is written only while the device is active (it ignores writes before), the MTU and
 * every interrupt index are checked before activation (a device may refuse or, in QEMU, abort on them),
 * and a refused activation is an error that names the device; every receive buffer is with the device
 * or being handed to listeners in this turn; a full transmit ring answers `busy` (then `onWritable`);
 * a completion that makes no sense resets the device rather than being trusted.
 */
import { registerNic } from '@uos/hw';
import { type Vmxnet3Options, Vmxnet3 } from './vmxnet3.js';

export { Vmxnet3 } from './vmxnet3.js';
export type { Vmxnet3DeviceCounters, Vmxnet3Options } from './vmxnet3.js';
export { Vmxnet3Stat, Vmxnet3Stats } from './stats.js';
export { Vmxnet3Error } from './errors.js';
export type { Vmxnet3ErrorCode } from './errors.js';

/** VMware's PCI vendor ID and the vmxnet3 device ID. */
export const VMWARE_VENDOR = 0x15ad;
export const VMXNET3_DEVICE = 0x07b0;

let defaults: Vmxnet3Options = {};

/**
 * Options for the vmxnet3 NICs bound after this call (the devices are bound at boot, after the service
 * module is evaluated: call it at the top level of the service). Like a Linux module parameter: e.g.
 * `configureVmxnet3({ interrupts: 'intx' })` for a hypervisor whose MSI-X is broken.
 */
export function configureVmxnet3(options: Vmxnet3Options): void {
  defaults = { ...options };
}

registerNic({
  name: 'vmxnet3',
  vendor: VMWARE_VENDOR,
  device: VMXNET3_DEVICE,
  create: (device, { ifname }) => new Vmxnet3(device, ifname, defaults),
});
