/**
 * Helpers for the tests that run @uos/net in the stack service (this directory's service.ts, which
 * imports both NIC drivers) over a tap device, whatever the NIC: virtio-net (stack.test.ts) or vmxnet3
 * (../vmxnet3). The NIC model is a parameter (`virtio-net-pci`, `vmxnet3`).
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Vm, VmOptions } from '@uos/vmrunner';
import { here, repositoryRoot } from '../../harness.js';
import { type TapLink, type WatchedProcess, buildTool, createTapLink, watchProcess } from '../../network.js';

/** The stack service's directory. */
export const stackDir = here(import.meta.url);
/** The host's address on the tap; the guest's MAC. */
export const HOST = '10.0.2.1';
export const MAC = '52:54:00:00:00:02';
const tcpClient = join(repositoryRoot, 'test', 'tools', 'tcp-client.mjs');

export type LinkOptions = Pick<VmOptions, 'wrapper' | 'config'>;

/**
 * A tap in a namespace of its own with the host at HOST/24, or undefined (with a warning naming why)
 * when none can be made here. UOS_TEST_NO_TAP=1 pretends it cannot, to exercise the fallbacks.
 */
export async function stackTapLink(name: string, what: string): Promise<TapLink | undefined> {
  const tap = process.env.UOS_TEST_NO_TAP
    ? { unavailable: 'UOS_TEST_NO_TAP is set' }
    : await createTapLink(name, { address: `${HOST}/24` });
  if (!('unavailable' in tap)) return tap;
  console.warn(`${what}: no tap device (${tap.unavailable})`);
  return undefined;
}

/** dnsmasq on the tap: DHCP (10.0.2.50-99, 2-minute leases, HOST as router and DNS) and a few names under uos.test. */
export async function startDnsmasq(link: TapLink): Promise<WatchedProcess> {
  const dnsmasq = watchProcess(
    link.spawn('dnsmasq', [
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
  return dnsmasq;
}

/** Starts dnsmasq on the tap and boots the stack service with a `device` NIC, asking for a lease. */
export async function bootForLease(
  link: TapLink,
  device: string,
  boot: (options: LinkOptions & { args: string[] }) => Promise<Vm>,
): Promise<Vm> {
  await startDnsmasq(link);
  return boot({ args: ['dhcp'], ...vmOnTap(link, device) });
}

/**
 * Waits for the guest's lease (checked: from dnsmasq's range, HOST as gateway and DNS) and readiness
 * (checked: @uos/net uses the native checksum the kernel handed it at boot); returns its address.
 */
export async function leaseOf(vm: Vm): Promise<string> {
  const lease = await vm.waitFor(/net: dhcp lease /, 60_000);
  const match = new RegExp(`net: dhcp lease (10\\.0\\.2\\.(\\d+))/24 gateway ${HOST} dns ${HOST} lease 120`).exec(lease);
  if (!match || Number(match[2]) < 50) throw new Error(`not a lease from dnsmasq's range: ${lease}`);
  const ready = await vm.waitFor('net: ready');
  if (!/ checksum platform( |$)/.test(ready)) throw new Error(`the stack does not use the platform's checksum: ${ready}`);
  return match[1]!;
}

export interface Stats {
  [name: string]: number;
}

let statsTag = 0;
/** The guest's statman counters of eth0 (and its open connection count). */
export async function guestStats(vm: Vm): Promise<Stats> {
  const tag = `s${++statsTag}`;
  vm.write(`stats ${tag}\n`);
  const line = await vm.waitFor(`net: stats ${tag} `);
  return JSON.parse(line.slice(line.indexOf('{'))) as Stats;
}

/** The guest's open connections with their TCP state, for failure messages. */
export async function guestConnections(vm: Vm): Promise<string> {
  vm.write('connections\n');
  return vm.waitFor('net: connections ', 5_000).catch((error: Error) => `(no answer: ${error.message})`);
}

/** Runs test/tools/tcp-client.mjs inside the namespace and parses its JSON line. */
export async function tcpClientRun(link: TapLink, args: string[], timeoutMs: number): Promise<Record<string, number | string | boolean>> {
  const result = await link.exec(process.execPath, [tcpClient, ...args], { timeoutMs });
  if (result.code !== 0) throw new Error(`tcp-client ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, number | string | boolean>;
}

/** The VM options for a `device` NIC on the tap, MAC as above. */
export function vmOnTap(link: TapLink, device: string): LinkOptions {
  return {
    wrapper: link.qemuWrapper,
    config: { net: [{ device, backend: 'tap' as const, name: link.tap, mac: MAC }] },
  };
}

/**
 * The lossy path: `tc qdisc … netem` on the tap when the kernel has it; otherwise fault-relay, which
 * carries frames between the tap and QEMU's dgram netdev with the same faults, in both directions.
 */
export async function faultyVmOptions(link: TapLink, device: string): Promise<{ kind: string; vm: LinkOptions; stop(): Promise<string> }> {
  const netem = await link.exec('tc', [
    'qdisc',
    'replace',
    'dev',
    link.tap,
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
      vm: vmOnTap(link, device),
      stop: async () => (await link.exec('tc', ['-s', 'qdisc', 'show', 'dev', link.tap])).stdout,
    };
  }
  console.warn(`tc netem is not available (${netem.stderr.trim()}); fault-relay applies the faults between the tap and QEMU instead`);
  const relay = await buildTool('fault-relay');
  const [relayPort, qemuPort] = await freePorts(2);
  const relayProcess = watchProcess(link.spawn(relay, [link.tap, String(relayPort), String(qemuPort), '3', '5', '1', '42']));
  await relayProcess.waitForOutput('relaying');
  // UOS_NET_PCAP=<file> records what passes QEMU's netdev (both ways) for Wireshark.
  const dump = process.env.UOS_NET_PCAP ? ['-object', `filter-dump,id=dump0,netdev=net0,file=${process.env.UOS_NET_PCAP}`] : [];
  const netdev = `local.type=inet,local.host=127.0.0.1,local.port=${qemuPort},remote.type=inet,remote.host=127.0.0.1,remote.port=${relayPort}`;
  return {
    kind: 'fault-relay, both directions',
    vm: {
      wrapper: link.qemuWrapper,
      config: { net: [{ device, backend: 'dgram' as const, name: netdev, mac: MAC }], qemu: dump },
    },
    stop: async () => {
      relayProcess.child.kill('SIGTERM');
      return (await relayProcess.ended).stdout.trim();
    },
  };
}

/**
 * Echoes `bytes` each way through the guest's TCP echo service (port 7) under 3% loss, 5% reordering
 * and 1% duplication, checks every byte came back, and that the guest saw the faults.
 */
export async function echoUnderFaults(
  link: TapLink,
  device: string,
  bytes: number,
  boot: (options: LinkOptions & { args: string[] }) => Promise<Vm>,
): Promise<{ vm: Vm; stats: Stats; report: string; ms: number; kind: string }> {
  const faults = await faultyVmOptions(link, device);
  const vm = await boot({ args: ['static', '10.0.2.15/24', HOST], ...faults.vm });
  await vm.waitFor('net: ready');
  const result = await tcpClientRun(link, ['echo', '10.0.2.15', '7', String(bytes), '42'], 1_500_000).catch(async (error: Error) => {
    throw new Error(
      `${error.message}\nguest: ${await guestConnections(vm)}\n${JSON.stringify(await guestStats(vm).catch(() => ({})))}\nfaults: ${await faults.stop()}`,
    );
  });
  if (result.sent !== bytes || result.received !== bytes || result.receivedSha256 !== result.sentSha256)
    throw new Error(
      `echo: sent ${result.sent}, received ${result.received} of ${bytes} bytes, hashes ${result.sentSha256} / ${result.receivedSha256}`,
    );
  const stats = await guestStats(vm);
  const report = await faults.stop();
  return { vm, stats, report, ms: Number(result.ms), kind: faults.kind };
}

/** Free TCP/UDP port numbers on 127.0.0.1 (bound and released; used right after). */
export async function freePorts(count: number): Promise<number[]> {
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
