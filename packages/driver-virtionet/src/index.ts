/**
 * @uos/driver-virtionet: the virtio-net driver. Importing this module (`import '@uos/driver-virtionet'`)
 * registers it with @uos/hw, the JS form of IncludeOS's global-constructor trick; a service that does not
 * import it carries none of its code.
 *
 * It speaks the virtio 1.x modern PCI transport (common, notify, ISR and device-configuration capabilities
 * over MMIO) and falls back to the legacy I/O-port transport; negotiates VERSION_1, MAC, STATUS and
 * MRG_RXBUF, and when offered the offloads (CSUM, GUEST_CSUM, HOST_TSO4/6, GUEST_TSO4/6: `nic.offloads`)
 * and EVENT_IDX; keeps its receive ring full and takes every frame of an interrupt in one pass; reclaims
 * transmit slots as sends need them; takes MSI-X interrupts with INTx as fallback. No polling.
 *
 * Invariants: every receive buffer is either posted to the device or being handed to listeners in this
 * turn; a full transmit ring answers `busy` (then `onWritable`), it never queues or drops silently; a
 * used-ring length larger than the buffer is counted and dropped, never read past; an offload the device
 * did not negotiate is never asked of it (the stack sees `NO_OFFLOADS` and does the work itself).
 */
import { registerNic } from '@uos/hw';
import { VirtioNet } from './virtio-net.js';

export { VirtioNet, VirtioNetFeature } from './virtio-net.js';
export type { VirtioNetOptions } from './virtio-net.js';
export { VirtioNetError } from './errors.js';
export type { VirtioNetErrorCode } from './errors.js';

/** Red Hat's virtio vendor ID, and the network device IDs: transitional (legacy + modern) and modern-only. */
export const VIRTIO_VENDOR = 0x1af4;
export const VIRTIO_NET_DEVICES = [0x1000, 0x1041] as const;

registerNic({
  name: 'virtio-net',
  vendor: VIRTIO_VENDOR,
  device: VIRTIO_NET_DEVICES,
  create: (device, { ifname }) => new VirtioNet(device, ifname),
});
