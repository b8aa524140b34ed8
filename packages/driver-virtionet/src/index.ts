/**
 * @uos/driver-virtionet: the virtio-net driver. Importing this module (`import '@uos/driver-virtionet'`)
 * registers it with @uos/hw, the JS form of IncludeOS's global-constructor trick; a service that does not
 * import it carries none of its code.
 *
 * This driver will speak the virtio 1.x modern PCI transport (legacy I/O-port transport as fallback),
 * negotiate VERSION_1, MAC, STATUS and MRG_RXBUF, keep its RX ring full, reclaim TX completions, and take
 * MSI-X interrupts with INTx as fallback.
 *
 * Status: not built yet (the PCI/virtio-net issue). Importing it registers nothing until then.
 */
export {};
