import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { boot, repositoryRoot } from '../harness.js';
import { buildRawFrames, createDgramLink, createTapLink, parseReceiveReport, watchProcess } from '../network.js';

// Any image will do: the QMP test's service stays alive until killed. The guest has no NIC driver, so
// QEMU's own announce-self (gratuitous RARP frames from the NIC's MAC) stands in for guest traffic.
const service = join(repositoryRoot, 'test', 'integration', 'vmrunner', 'qmp');
const MAC = '52:54:00:12:34:56';
const RARP = 0x8035;
const announce = { initial: 50, max: 100, rounds: 3, step: 50 };

const countOf = (haystack: Buffer, needle: Buffer): number => {
  let n = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) n++;
  return n;
};
const macOf = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');

describe('dgram link', () => {
  it('carries guest frames to the host and host frames into QEMU, and QEMU survives datagrams for a NIC without a driver', async () => {
    const link = await createDgramLink();
    const scratch = mkdtempSync(join(tmpdir(), 'uos-dgram-test-'));
    onTestFinished(() => rmSync(scratch, { recursive: true, force: true }));
    const dump = join(scratch, 'net0.pcap');
    const vm = await boot(service, {
      config: {
        net: [{ device: 'virtio-net-pci', backend: 'dgram', name: link.netdev, mac: MAC }],
        // Records what passes through the netdev, both ways.
        qemu: ['-object', `filter-dump,id=dump0,netdev=net0,file=${dump}`],
      },
    });
    await vm.waitFor('qmp: ready');
    expect(vm.command).toContain(`dgram,id=net0,${link.netdev}`);
    expect(await vm.qmp('query-status')).toMatchObject({ status: 'running' });
    expect(await vm.monitor('info network')).toContain(
      `net0: index=0,type=dgram,udp=127.0.0.1:${link.qemuPort}/127.0.0.1:${link.hostPort}`,
    );

    const frames: Uint8Array[] = [];
    link.onFrame((frame) => frames.push(frame));
    await vm.qmp('announce-self', announce);
    await expect.poll(() => frames.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(announce.rounds);
    const frame = frames[0]!;
    expect(macOf(frame.subarray(0, 6))).toBe('ff:ff:ff:ff:ff:ff');
    expect(macOf(frame.subarray(6, 12))).toBe(MAC);
    expect((frame[12]! << 8) | frame[13]!).toBe(RARP);

    // Frames towards the guest, sent from our other socket (QEMU takes datagrams from any sender). The NIC
    // cannot take them without a driver; the netdev's dump shows that QEMU read them all the same.
    const marker = Buffer.from('uos dgram link marker');
    const injected = new Uint8Array(14 + 64);
    injected.set([0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5]);
    injected.set(marker, 14);
    for (let i = 0; i < 100; i++) link.send(injected);
    await expect.poll(() => existsSync(dump) && readFileSync(dump).includes(marker), { timeout: 10_000 }).toBe(true);
    // QEMU 7.2 reads one datagram, queues it for the NIC and stops reading until the NIC can receive.
    expect(countOf(readFileSync(dump), marker)).toBeGreaterThanOrEqual(1);
    expect(await vm.qmp('query-status')).toMatchObject({ status: 'running' });
    await vm.kill();
    await link.close();
  });
});

describe('tap link', () => {
  it('runs QEMU inside the namespace through the wrapper, its frames reach tap0, and kill() ends QEMU itself', async ({ skip }) => {
    const link = await createTapLink('vm-tap');
    if ('unavailable' in link) {
      console.warn(`tap link: skipped, no tap link here: ${link.unavailable}`);
      return skip(link.unavailable);
    }
    const rawFrames = await buildRawFrames();
    expect((await link.exec('ip', ['-brief', 'address', 'show', 'tap0'])).stdout).toContain('10.0.2.1/24');

    const vm = await boot(service, {
      wrapper: link.qemuWrapper,
      config: { net: [{ device: 'virtio-net-pci', backend: 'tap', name: link.tap, mac: MAC }] },
    });
    expect(vm.command.slice(0, 4)).toEqual(['ip', 'netns', 'exec', link.namespace]);
    await vm.waitFor('qmp: ready');

    // `ip netns exec` execs QEMU: the child's PID is QEMU's own, in the link's namespace.
    const pid = vm.pid!;
    expect(basename(readlinkSync(`/proc/${pid}/exe`))).toBe('qemu-system-x86_64');
    const namespaceOfLink = (await link.exec('readlink', ['/proc/self/ns/net'])).stdout.trim();
    expect(readlinkSync(`/proc/${pid}/ns/net`)).toBe(namespaceOfLink);
    expect(readlinkSync('/proc/self/ns/net')).not.toBe(namespaceOfLink);

    // QMP's unix socket works across network namespaces (it is found through the file system).
    expect(await vm.qmp('query-status')).toMatchObject({ status: 'running' });
    expect(await vm.monitor('info network')).toMatch(/net0: index=0,type=tap,ifname=tap0/);

    const receiver = watchProcess(link.spawn(rawFrames, ['receive', 'tap0', RARP.toString(16), String(announce.rounds), '10000']));
    await receiver.waitForOutput('listening on tap0');
    await vm.qmp('announce-self', announce);
    const result = await receiver.ended;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // A RARP body is no sequence number: every frame is "out of range".
    expect(parseReceiveReport(result.stdout)).toMatchObject({ received: announce.rounds, outOfRange: announce.rounds });

    await vm.kill();
    expect((await vm.waitForExit()).killed).toBe(true);
    expect(existsSync(`/proc/${pid}`)).toBe(false);

    // close() ends what spawn() started and deletes the namespace.
    const sleeper = watchProcess(link.spawn('sleep', ['600']));
    await link.close();
    expect((await sleeper.ended).code).toBe(null);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(link.namespace);
  });
});
