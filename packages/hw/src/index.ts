/**
 * @uos/hw: hardware access for uOS services and drivers.
 *
 * This layer will enumerate the PCI bus (bridges included), size BARs, walk capability lists (MSI, MSI-X,
 * virtio vendor capabilities), map MSI-X tables onto the kernel's interrupt vectors, hand out physically
 * contiguous DMA buffers, and keep the driver registry (`registerNic({ vendor, device | predicate, name,
 * create })`) that the kernel probes at boot. It also defines the `Nic` interface every network driver
 * implements.
 *
 * Invariants (to hold when the layer lands): the registry is shared across duplicated package copies
 * through a `Symbol.for` key; a PCI device without a driver is reported by name, never ignored silently.
 *
 * Status: not built yet (the PCI/virtio-net issue). The package exists so the monorepo layout, builds and
 * dependency graph are final; it exports nothing until then.
 */
export {};
