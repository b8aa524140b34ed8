/**
 * @uos/net in a VM, talking to real Linux peers over a tap device in a network namespace: dnsmasq's
 * DHCP and DNS, ping, curl, Linux TCP through the echo service under loss, duplication and reordering,
 * and 1,000 connections in a row. Where no tap can be made, QEMU's user networking carries what it can.
 */
import { createHash } from 'node:crypto';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { ExitStatus, type Vm, type VmOptions } from '@uos/vmrunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, here, repositoryRoot } from '../../harness.js';
import { type TapLink, buildTool, createTapLink, watchProcess } from '../../network.js';

const dir = here(import.meta.url);
const tcpClient = join(repositoryRoot, 'test', 'tools', 'tcp-client.mjs');
const HOST = '10.0.2.1';
const MAC = '52:54:00:00:00:02';
const ECHO_BYTES = 50 * 1024 * 1024;

interface Stats {
  [name: string]: number;
}

let statsTag = 0;
async function guestStats(vm: Vm): Promise<Stats> {
  const tag = `s${++statsTag}`;
  vm.write(`stats ${tag}\n`);
  const line = await vm.waitFor(`net: stats ${tag} `);
  return JSON.parse(line.slice(line.indexOf('{'))) as Stats;
}

// UOS_TEST_NO_TAP=1 exercises the fallback on machines that could make a tap.
const tap = process.env.UOS_TEST_NO_TAP ? { unavailable: 'UOS_TEST_NO_TAP is set' } : await createTapLink('net', { address: `${HOST}/24` });
if ('unavailable' in tap)
  console.warn(`@uos/net integration: no tap device (${tap.unavailable}); testing over QEMU user networking instead`);
const link: TapLink | undefined = 'unavailable' in tap ? undefined : tap;

/** The guest's open connections with their TCP state, for failure messages. */
async function guestConnections(vm: Vm): Promise<string> {
  vm.write('connections\n');
  return vm.waitFor('net: connections ', 5_000).catch((error: Error) => `(no answer: ${error.message})`);
}

/** Runs test/tools/tcp-client.mjs inside the namespace and parses its JSON line. */
async function tcpClientRun(args: string[], timeoutMs: number): Promise<Record<string, number | string | boolean>> {
  const result = await link!.exec(process.execPath, [tcpClient, ...args], { timeoutMs });
  if (result.code !== 0) throw new Error(`tcp-client ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, number | string | boolean>;
}

describe.skipIf(!link)('@uos/net over a tap device', () => {
  afterAll(() => link?.close());

  describe('with dnsmasq', () => {
    let vm: Vm;
    let guest = '';
    afterAll(() => vm?.kill());
    beforeAll(async () => {
      const dnsmasq = watchProcess(
        link!.spawn('dnsmasq', [
          '--keep-in-foreground',
          '--log-facility=-',
          '--conf-file=/dev/null',
          '--no-resolv',
          '--no-hosts',
          '--leasefile-ro',
          '--interface=tap0',
          '--bind-interfaces',
          '--log-dhcp',
          '--log-queries',
          '--dhcp-range=10.0.2.50,10.0.2.99,255.255.255.0,2m',
          `--dhcp-option=option:router,${HOST}`,
          '--local=/uos.test/',
          '--host-record=service.uos.test,10.0.2.77',
          '--cname=alias.uos.test,service.uos.test',
          '--cname=chain.uos.test,alias.uos.test',
        ]),
      );
      // dnsmasq logs to stderr; give it a moment to bind, and fail early if it died.
      await new Promise((r) => setTimeout(r, 300));
      if (dnsmasq.child.exitCode !== null) throw new Error(`dnsmasq ended: ${dnsmasq.stderr}`);
      vm = await boot(dir, { args: ['dhcp'], ...vmOnTap() });
      const lease = await vm.waitFor(/net: dhcp lease /, 60_000);
      guest = /lease (\d+\.\d+\.\d+\.\d+)\//.exec(lease)![1]!;
      expect(lease).toMatch(new RegExp(`net: dhcp lease 10\\.0\\.2\\.(\\d+)/24 gateway ${HOST} dns ${HOST} lease 120`));
      expect(Number(guest.split('.')[3])).toBeGreaterThanOrEqual(50);
      // The kernel handed @uos/net the native checksum at boot: the service did nothing for it.
      expect(await vm.waitFor('net: ready')).toMatch(/ checksum platform$/);
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
      const result = await tcpClientRun(['connections', guest, '7', '1000'], 300_000);
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
    const faults = await faultyVmOptions();
    const vm = await boot(dir, { args: ['static', '10.0.2.15/24', HOST], ...faults.vm });
    await vm.waitFor('net: ready');
    const result = await tcpClientRun(['echo', '10.0.2.15', '7', String(ECHO_BYTES), '42'], 1_500_000).catch(async (error: Error) => {
      throw new Error(
        `${error.message}\nguest: ${await guestConnections(vm)}\n${JSON.stringify(await guestStats(vm).catch(() => ({})))}\nfaults: ${await faults.stop()}`,
      );
    });
    expect(result.sent).toBe(ECHO_BYTES);
    expect(result.received).toBe(ECHO_BYTES);
    expect(result.receivedSha256).toBe(result.sentSha256);
    const stats = await guestStats(vm);
    const report = await faults.stop();
    console.info(
      `echo ${ECHO_BYTES >> 20} MB each way under faults (${faults.kind}) in ${result.ms} ms; ` +
        `guest retransmits ${stats['eth0.tcp.retransmits']}, out of order ${stats['eth0.tcp.out_of_order']}, duplicates ${stats['eth0.tcp.duplicate_segments']}\n${report}`,
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

type LinkOptions = Pick<VmOptions, 'wrapper' | 'config'>;

function vmOnTap(): LinkOptions {
  return {
    wrapper: link!.qemuWrapper,
    config: { net: [{ device: 'virtio-net-pci', backend: 'tap' as const, name: link!.tap, mac: MAC }] },
  };
}

/**
 * The lossy path: `tc qdisc … netem` on the tap when the kernel has it; otherwise fault-relay, which
 * carries frames between the tap and QEMU's dgram netdev with the same faults, in both directions.
 */
async function faultyVmOptions(): Promise<{ kind: string; vm: LinkOptions; stop(): Promise<string> }> {
  const netem = await link!.exec('tc', [
    'qdisc',
    'replace',
    'dev',
    link!.tap,
    'root',
    'netem',
    'loss',
    '3%',
    'reorder',
    '5%',
    'duplicate',
    '1%',
    'delay',
    '1ms',
  ]);
  if (netem.code === 0) {
    return {
      kind: 'tc netem on the host side',
      vm: vmOnTap(),
      stop: async () => (await link!.exec('tc', ['-s', 'qdisc', 'show', 'dev', link!.tap])).stdout,
    };
  }
  console.warn(`tc netem is not available (${netem.stderr.trim()}); fault-relay applies the faults between the tap and QEMU instead`);
  const relay = await buildTool('fault-relay');
  const [relayPort, qemuPort] = await freePorts(2);
  const relayProcess = watchProcess(link!.spawn(relay, [link!.tap, String(relayPort), String(qemuPort), '3', '5', '1', '42']));
  await relayProcess.waitForOutput('relaying');
  // UOS_NET_PCAP=<file> records what passes QEMU's netdev (both ways) for Wireshark.
  const dump = process.env.UOS_NET_PCAP ? ['-object', `filter-dump,id=dump0,netdev=net0,file=${process.env.UOS_NET_PCAP}`] : [];
  const netdev = `local.type=inet,local.host=127.0.0.1,local.port=${qemuPort},remote.type=inet,remote.host=127.0.0.1,remote.port=${relayPort}`;
  return {
    kind: 'fault-relay, both directions',
    vm: {
      wrapper: link!.qemuWrapper,
      config: { net: [{ device: 'virtio-net-pci', backend: 'dgram' as const, name: netdev, mac: MAC }], qemu: dump },
    },
    stop: async () => {
      relayProcess.child.kill('SIGTERM');
      return (await relayProcess.ended).stdout.trim();
    },
  };
}

/** Free TCP/UDP port numbers on 127.0.0.1 (bound and released; used right after). */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    ports.push(
      await new Promise<number>((resolve) => {
        const server = createServer();
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          server.close(() => resolve(port));
        });
      }),
    );
  }
  return ports;
}
