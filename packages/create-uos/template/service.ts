/**
 * {{name}}: a uOS service. `pnpm start` builds it into a bootable image and boots it in QEMU.
 *
 * It takes an address by DHCP on the virtio-net NIC that vm.json gives the VM, and echoes every TCP
 * connection on port 7. Edit freely: what this module imports is what the image holds.
 */
import '@uos/driver-virtionet';
import { nic } from '@uos/hw';
import { os, service } from '@uos/kernel';
import { DhcpClient, Inet, echo, formatIpv4Address } from '@uos/net';

export const ECHO_PORT = 7;

export default service({
  async start(args) {
    console.log(`{{name}}: started with ${JSON.stringify(args)}`);
    const eth0 = nic('eth0');
    if (!eth0) {
      console.error('{{name}}: no NIC; vm.json needs "net": [{ "device": "virtio-net-pci", "backend": "user" }]');
      os.exit(1);
    }
    const inet = new Inet(eth0);
    const dhcp = await new DhcpClient(inet).start();
    if (!dhcp.ok) throw new Error(`no DHCP lease: ${dhcp.error}`);
    inet.tcp.listen(ECHO_PORT, echo);
    console.log(`{{name}}: echo on ${formatIpv4Address(dhcp.lease.address)}:${ECHO_PORT}`);
  },
  stop() {
    console.log('{{name}}: stopping');
  },
});
