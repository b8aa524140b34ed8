/**
 * @uos/hw: hardware access for uOS drivers and services.
 *
 * PCI functions (found by the platform at boot) with typed configuration-space access (through the legacy
 * ports or ECAM, whichever the machine has: `PciConfigAccess`), BARs sized by
 * probing, the capability list and the command register; MSI-X tables routed to vectors from the
 * kernel's interrupt layer, single-message MSI, and legacy INTx through the I/O APIC as fallback; DMA memory (physically
 * contiguous, identity-mapped) and bounded buffer pools; uncached register windows over MMIO or I/O
 * ports; the driver registry (`registerNic`) and the `Nic` interface network stacks use.
 *
 * Invariants: nothing touches hardware at import time; a driver registers from its entry module only, and
 * the registry lives on a `Symbol.for` key so duplicated package copies share it; every device the kernel
 * finds appears in the boot device table with its driver or "no driver"; pools are bounded and full rings
 * answer `busy` rather than queue without limit.
 */
export { PciDevice, PciConfig, PciCommand, PciCapability } from './pci.js';
export type { PciBar, PciCapabilityEntry, PciLocation } from './pci.js';
export { MsixTable, routeIntx } from './msix.js';
export { MsiCapability } from './msi.js';
export { allocateDma, DmaPool } from './dma.js';
export type { DmaBuffer } from './dma.js';
export { mmioWindow, ioWindow } from './registers.js';
export type { RegisterWindow } from './registers.js';
export { registerNic, nics, nic } from './registry.js';
export type { NicDriver } from './registry.js';
export { NicBase, NicStats, NicStat, formatMac, FrameInfo, GsoType, NO_OFFLOADS } from './nic.js';
export type { Nic, NicOffloads, TransmitResult } from './nic.js';
export { hwPlatform, setHwPlatform, configAccessFor, withConfigAccess } from './platform.js';
export { portConfigAccess, ecamConfigAccess, noConfigAccess } from './pci-config.js';
export type { PciConfigAccess, EcamRegion, ConfigWidth, PortBus, MmioBus } from './pci-config.js';
export type { HwPlatform } from './platform.js';
export { HwError } from './errors.js';
export type { HwErrorCode } from './errors.js';
