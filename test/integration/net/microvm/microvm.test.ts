/**
 * virtio-net over PCI on QEMU's microvm machine: the vmrunner turns on microvm's PCIe host bridge
 * (pcie=on) for a PCI NIC, the platform reaches its configuration space through ECAM and assigns the
 * BARs no firmware assigned, and the driver runs with MSI-X as on pc. The stack service (../stack) takes
 * a lease from dnsmasq on a tap, answers ping and echoes TCP from Linux; without a tap, QEMU's user
 * networking with host forwarding carries the lease and the echo.
 */
import { createHash } from 'node:crypto';
import { createConnection } from 'node:net';
import { ExitStatus, type Vm } from '@uos/vmrunner';
import { afterAll, describe, expect, it } from 'vitest';
import { boot } from '../../harness.js';
import { HOST, MAC, bootForLease, freePorts, leaseOf, stackDir, stackTapLink, tcpClientRun } from '../stack/stack-vm.js';

const DEVICE = 'virtio-net-pci';
const ECHO_BYTES = 4 * 1024 * 1024;
const bootMicrovm = (options: Parameters<typeof boot>[1]) => boot(stackDir, { ...options, machine: 'microvm' });

/** The boot table names the NIC on the PCIe root bus, bound to virtio-net as eth0. */
async function expectNicBound(vm: Vm): Promise<void> {
  await vm.waitFor('uos: PCI devices:');
  expect(await vm.waitFor(/^ {2}00:[0-9a-f]{2}\.0 {2}1af4:1000 /m)).toMatch(/virtio-net \(eth0\)$/);
}

const link = await stackTapLink('mvm', 'virtio-net on microvm (testing over QEMU user networking instead)');

describe.skipIf(!link)('virtio-net over PCIe on microvm, on a tap', () => {
  afterAll(() => link?.close());

  it('takes a DHCP lease from dnsmasq, answers ping and echoes TCP from Linux', async () => {
    let vm: Vm | undefined;
    try {
      vm = await bootForLease(link!, DEVICE, bootMicrovm);
      expect(vm.command.join(' ')).toContain('pcie=on');
      await expectNicBound(vm);
      const guest = await leaseOf(vm);
      const ping = await link!.exec('ping', ['-c', '5', '-i', '0.2', '-W', '2', guest]);
      expect(ping.stdout).toContain('5 packets transmitted, 5 received');
      vm.write(`ping ${HOST} 2\n`);
      expect(await vm.waitFor(`net: ping ${HOST} `)).toMatch(/^net: ping \S+ \d+\.\d+ \d+\.\d+$/);
      const echo = await tcpClientRun(link!, ['echo', guest, '7', String(ECHO_BYTES), '7'], 300_000);
      expect(echo.received).toBe(ECHO_BYTES);
      expect(echo.receivedSha256).toBe(echo.sentSha256);
      vm.write('quit\n');
      await vm.expectExit(ExitStatus.ok);
    } finally {
      vm?.kill();
    }
  }, 300_000);
});

describe.skipIf(!!link)('virtio-net over PCIe on microvm, QEMU user networking (no tap device)', () => {
  it("takes a lease from QEMU's DHCP and echoes TCP through host forwarding", async () => {
    const [port] = await freePorts(1);
    const vm = await bootMicrovm({
      args: ['dhcp'],
      config: { net: [{ device: DEVICE, backend: 'user', mac: MAC, name: `hostfwd=tcp:127.0.0.1:${port}-:7` }] },
    });
    try {
      await expectNicBound(vm);
      expect(await vm.waitFor(/net: dhcp lease /, 60_000)).toMatch(/net: dhcp lease 10\.0\.2\.15\/24 gateway 10\.0\.2\.2 /);
      await vm.waitFor('net: ready');
      const data = Buffer.alloc(ECHO_BYTES, 0).map((_, i) => (i * 7919) >>> 3);
      const echoed = await new Promise<Buffer>((resolve, reject) => {
        const socket = createConnection({ host: '127.0.0.1', port: port! });
        const chunks: Buffer[] = [];
        socket.on('data', (d) => chunks.push(d));
        socket.on('end', () => resolve(Buffer.concat(chunks)));
        socket.on('error', reject);
        socket.end(data);
      });
      expect(createHash('sha256').update(echoed).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      vm.write('quit\n');
      await vm.expectExit(ExitStatus.ok);
    } finally {
      vm.kill();
    }
  }, 180_000);
});
