/**
 * @uos/net in a VM, talking to real Linux peers over a tap device in a network namespace: dnsmasq's
 * DHCP and DNS, ping, curl, Linux TCP through the echo service under loss, duplication and reordering,
 * and 1,000 connections in a row. Where no tap can be made, QEMU's user networking carries what it can.
 */
import { createHash } from 'node:crypto';
import { createConnection } from 'node:net';
import { ExitStatus, type Vm } from '@uos/vmrunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot } from '../../harness.js';
import {
  HOST,
  MAC,
  echoUnderFaults,
  freePorts,
  guestConnections,
  guestStats,
  stackDir,
  stackTapLink,
  bootForLease,
  leaseOf,
  tcpClientRun,
} from './stack-vm.js';

const dir = stackDir;
const DEVICE = 'virtio-net-pci';
const ECHO_BYTES = 50 * 1024 * 1024;

const link = await stackTapLink('net', '@uos/net integration (testing over QEMU user networking instead)');

describe.skipIf(!link)('@uos/net over a tap device', () => {
  afterAll(() => link?.close());

  describe('with dnsmasq', () => {
    let vm: Vm;
    let guest = '';
    afterAll(() => vm?.kill());
    beforeAll(async () => {
      vm = await bootForLease(link!, DEVICE, (options) => boot(dir, options));
      guest = await leaseOf(vm);
    }, 120_000);

    it('resolves names through dnsmasq: an A record, CNAME chains, and a name that does not exist', async () => {
      vm.write('resolve service.uos.test\n');
      expect(await vm.waitFor('net: resolve')).toBe('net: resolved service.uos.test 10.0.2.77');
      vm.write('resolve chain.uos.test\n');
      expect(await vm.waitFor('chain.uos.test')).toBe('net: resolved chain.uos.test 10.0.2.77');
      vm.write('resolve missing.uos.test\n');
      expect(await vm.waitFor('missing.uos.test')).toBe('net: resolve missing.uos.test failed: not-found');
    });

    it('answers ping from Linux, and pings Linux', async () => {
      const ping = await link!.exec('ping', ['-c', '5', '-i', '0.2', '-W', '2', guest]);
      expect(ping.stdout).toContain('5 packets transmitted, 5 received');
      vm.write(`ping ${HOST} 3\n`);
      const line = await vm.waitFor(`net: ping ${HOST} `);
      expect(line).toMatch(/^net: ping \S+ \d+\.\d+ \d+\.\d+ \d+\.\d+$/);
    });

    it('1,000 connections opened and closed in a row leave no state behind', async () => {
      const before = await guestStats(vm);
      expect(before.connections).toBe(0); // the tests before left none (this one runs before the HTTP test, whose server closes first)
      const result = await tcpClientRun(link!, ['connections', guest, '7', '1000'], 300_000);
      expect(result).toMatchObject({ completed: 1000, failed: 0 });
      console.info(`1000 connections in ${result.ms} ms`);
      // The guest closes second (the client ends first), so it keeps no TIME-WAIT: all gone at the last ACK.
      // (A SYN that Linux retransmitted while the slow guest was busy can leave a half-open connection
      // for a while: it is bounded by the SYN-RECEIVED retransmissions.)
      await expect
        .poll(async () => (await guestStats(vm)).connections, { timeout: 90_000, interval: 500 })
        .toBe(0)
        .catch(async (error: Error) => {
          throw new Error(`${error.message}\n${await guestConnections(vm)}`);
        });
      const after = await guestStats(vm);
      expect(after['eth0.tcp.connections_opened']! - before['eth0.tcp.connections_opened']!).toBe(1000);
      expect(after['eth0.tcp.connections_closed']! - before['eth0.tcp.connections_closed']!).toBe(1000);
      expect(after['eth0.tcp.connections_active']).toBe(0);
    }, 360_000);

    it('serves HTTP to curl', async () => {
      const curl = await link!.exec('curl', ['-sS', '-m', '10', '-i', `http://${guest}/hello`]);
      expect(curl.code).toBe(0);
      expect(curl.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(curl.stdout).toContain('\r\n\r\nhello from uOS: /hello\n');
      vm.write('quit\n');
      await vm.expectExit(ExitStatus.ok);
    });
  });

  it(`moves ${ECHO_BYTES >> 20} MB each way through the echo service with 3% loss, 5% reordering and 1% duplication`, async () => {
    const { vm, stats, report, ms, kind } = await echoUnderFaults(link!, DEVICE, ECHO_BYTES, (options) => boot(dir, options));
    console.info(
      `echo ${ECHO_BYTES >> 20} MB each way under faults (${kind}) in ${ms} ms; ` +
        `guest retransmits ${stats['eth0.tcp.retransmits']} (fast ${stats['eth0.tcp.fast_retransmits']}), timeouts ${stats['eth0.tcp.timeouts']}, ` +
        `tail loss probes ${stats['eth0.tcp.tail_loss_probes']}, out of order ${stats['eth0.tcp.out_of_order']}, duplicates ${stats['eth0.tcp.duplicate_segments']}\n${report}`,
    );
    // The faults were real: the guest saw them.
    expect(stats['eth0.tcp.retransmits']).toBeGreaterThan(0);
    expect(stats['eth0.tcp.out_of_order']).toBeGreaterThan(0);
    vm.write('quit\n');
    await vm.expectExit(ExitStatus.ok);
  }, 1_800_000);
});

describe.skipIf(!!link)('@uos/net over QEMU user networking (no tap device)', () => {
  it("takes a lease from QEMU's DHCP, serves HTTP and echo through host forwarding, pings the gateway", async () => {
    const ports = await freePorts(2);
    const vm = await boot(dir, {
      args: ['dhcp'],
      config: {
        net: [
          {
            device: 'virtio-net-pci',
            backend: 'user',
            mac: MAC,
            name: `hostfwd=tcp:127.0.0.1:${ports[0]}-:80,hostfwd=tcp:127.0.0.1:${ports[1]}-:7`,
          },
        ],
      },
    });
    expect(await vm.waitFor(/net: dhcp lease /, 60_000)).toMatch(/net: dhcp lease 10\.0\.2\.15\/24 gateway 10\.0\.2\.2 dns 10\.0\.2\.3 /);
    await vm.waitFor('net: ready');
    const response = await fetch(`http://127.0.0.1:${ports[0]}/hello`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello from uOS: /hello\n');
    const data = Buffer.alloc(4 * 1024 * 1024, 0).map((_, i) => (i * 7919) >>> 3);
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port: ports[1]! });
      const chunks: Buffer[] = [];
      socket.on('data', (d) => chunks.push(d));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
      socket.end(data);
    });
    expect(createHash('sha256').update(echoed).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    vm.write('ping 10.0.2.2 2\n');
    expect(await vm.waitFor('net: ping 10.0.2.2 ')).toMatch(/^net: ping 10\.0\.2\.2 \d+\.\d+ \d+\.\d+$/);
    vm.write('quit\n');
    await vm.expectExit(ExitStatus.ok);
  }, 180_000);
});
