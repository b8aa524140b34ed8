/**
 * @uos/driver-vmxnet3: the VMware vmxnet3 NIC driver. Importing this module registers it with @uos/hw;
 * a service that does not import it carries none of its code.
 *
 * Status: not built yet (a later issue). Importing it registers nothing until then.
 */
export {};
