/**
 * @uos/net in a VM against what an attacker does (issue 17), from the host over a tap device in a
 * network namespace: a SYN flood from random sources (hping3), a flood of one-byte out-of-order segments
 * with holes inside a live connection, and a receiver that opens its zero window only in the ACK of a
 * probe byte (both crafted with scapy, test/tools/tcp-attacks.py). After each the guest must still
 * answer: new connections during and after the flood, ping throughout, the transfer byte-exact. The
 * times (connect during and after the flood, ping RTTs) are printed: they are the acceptance
 * figures, and depend on the host's load (a guest under TCG processes a few thousand frames a second).
 *
 * The default run keeps each attack to a few seconds; UOS_NET_ATTACKS_FULL=1 runs them at the size the
 * issue reported (a 20 s flood at 10,000 SYNs/s; 3,000 segments at 100/s), about two minutes more.
 * Every packet stays inside the namespace: the guest's answers to spoofed sources go to the namespace's
 * address, which does not forward them.
 */
import { join } from 'node:path';
import { ExitStatus, type Vm } from '@uos/vmrunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, here, repositoryRoot } from '../../harness.js';
import { type TapLink, createTapLink, watchProcess } from '../../network.js';

const dir = here(import.meta.url);
const attacks = join(repositoryRoot, 'test', 'tools', 'tcp-attacks.py');
const HOST = '10.0.2.1';
const GUEST = '10.0.2.15';
/** An address on the tap's subnet nobody holds: tcp-attacks.py answers ARP for it. */
const FAKE = '10.0.2.7';
const MAC = '52:54:00:00:00:03';
const FULL = process.env.UOS_NET_ATTACKS_FULL === '1';

const tap = process.env.UOS_TEST_NO_TAP
  ? { unavailable: 'UOS_TEST_NO_TAP is set' }
  : await createTapLink('attacks', { address: `${HOST}/24` });
const link: TapLink | undefined = 'unavailable' in tap ? undefined : tap;
const missing = link ? await missingTools(link) : [];
if (!link) console.warn(`@uos/net attack tests skipped: no tap device (${(tap as { unavailable: string }).unavailable})`);
else if (missing.length) console.warn(`@uos/net attack tests skipped: ${missing.join(', ')} missing (scripts/bootstrap.sh installs them)`);

async function missingTools(tapLink: TapLink): Promise<string[]> {
  const out: string[] = [];
  if ((await tapLink.exec('hping3', ['--version'])).code === null) out.push('hping3');
  if ((await tapLink.exec('/usr/bin/python3', ['-c', 'import scapy'])).code !== 0) out.push('python3-scapy');
  return out;
}

let statsTag = 0;
async function guestStats(vm: Vm): Promise<Record<string, number>> {
  const tag = `s${++statsTag}`;
  vm.write(`stats ${tag}\n`);
  const line = await vm.waitFor(`net: stats ${tag} `);
  return JSON.parse(line.slice(line.indexOf('{'))) as Record<string, number>;
}

/** curl's connect time to the guest's HTTP service, in ms, or undefined when it did not connect in 10 s. */
async function connectMs(): Promise<number | undefined> {
  const result = await link!.exec('curl', ['-s', '-o', '/dev/null', '-m', '10', '-w', '%{time_connect} %{http_code}', `http://${GUEST}/`]);
  const [connect, code] = result.stdout.trim().split(' ');
  return result.code === 0 && code === '200' ? Math.round(Number(connect) * 1000) : undefined;
}

/**
 * Pings the guest every 200 ms for `seconds`: RTTs in ms, and how many requests were never answered (a
 * fixed count, so ping itself waits for the last replies; none is cut off by stopping it).
 */
function pingFor(seconds: number): Promise<{ rtts: number[]; lost: number }> {
  const ping = watchProcess(link!.spawn('ping', ['-i', '0.2', '-W', '5', '-n', '-c', String(Math.ceil(seconds * 5)), GUEST]));
  return ping.ended.then(({ stdout }) => {
    const rtts = [...stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    const sent = Number(/(\d+) packets transmitted/.exec(stdout)?.[1] ?? 0);
    return { rtts, lost: sent - rtts.length };
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const summary = (values: number[]): string =>
  values.length ? `median ${[...values].sort((a, b) => a - b)[values.length >> 1]} ms, max ${Math.max(...values)} ms` : 'none';

describe.skipIf(!link || missing.length > 0)('@uos/net under attack over a tap device', () => {
  let vm: Vm;
  afterAll(async () => {
    vm?.write('quit\n');
    await vm?.expectExit(ExitStatus.ok).catch(() => vm.kill());
    await link?.close();
  });
  beforeAll(async () => {
    vm = await boot(dir, {
      args: ['static', `${GUEST}/24`, HOST],
      wrapper: link!.qemuWrapper,
      config: { net: [{ device: 'virtio-net-pci', backend: 'tap' as const, name: link!.tap, mac: MAC }] },
    });
    await vm.waitFor('net: ready');
  }, 120_000);

  it(`keeps its port open through a ${FULL ? 20 : 5} s SYN flood from random sources (SYN cookies)`, async () => {
    const seconds = FULL ? 20 : 5;
    expect(await connectMs()).toBeDefined(); // ARP and the path warmed up
    const before = await guestStats(vm);
    const flood = watchProcess(link!.spawn('hping3', ['-S', '-p', '80', '-i', 'u100', '--rand-source', '-q', GUEST]));
    await sleep((seconds * 1000) / 2);
    const during = await connectMs();
    await sleep(Math.max(0, (seconds * 1000) / 2 - (during ?? 10_000)));
    flood.child.kill('SIGINT');
    const { stdout, stderr } = await flood.ended;
    // Connect until it works, for a minute at most: the first connection after the flood, and how long
    // after the flood's end it was made (curl's own retries included).
    const stopped = performance.now();
    let after: number | undefined;
    let connect: number | undefined;
    while (connect === undefined && performance.now() - stopped < 60_000) connect = await connectMs();
    if (connect !== undefined) after = Math.round(performance.now() - stopped);
    const stats = await guestStats(vm);
    const sent = /(\d+) packets transmitted/.exec(stdout + stderr)?.[1];
    const delta = (name: string): number => (stats[`eth0.tcp.${name}`] ?? 0) - (before[`eth0.tcp.${name}`] ?? 0);
    console.info(
      `SYN flood ${seconds} s, ${sent} SYNs sent by hping3: connect during ${during ?? 'failed'} ms, ` +
        `after: connected ${after ?? 'never'} ms after the flood (curl connect time ${connect ?? '-'} ms); ` +
        `guest: segments in ${delta('segments_rx')}, cookies sent ${delta('syn_cookies_sent')}, accepted ${delta('syn_cookies_accepted')}, ` +
        `SYNs dropped ${delta('syn_dropped')}, half-open now ${stats.connections}`,
    );
    // The port takes connections again within the minute: before SYN cookies it stayed locked for the
    // 2 minutes its half-open entries lived. How soon is a figure (reported above), not an assertion:
    // under TCG the guest first drains the frames queued during the flood, at the speed the host's load
    // allows (a few hundred a second on a busy 2-core host).
    expect(after).toBeDefined();
    expect(delta('syn_cookies_sent')).toBeGreaterThan(0);
  }, 180_000);

  it(`keeps answering ping through ${FULL ? '3,000' : '600'} one-byte out-of-order segments with holes, and counts the stream right`, async () => {
    const [count, rate] = FULL ? [3000, 100] : [600, 100];
    const pings = pingFor(count / rate + 4); // the flood, and a little after
    const result = await link!.exec('/usr/bin/python3', [attacks, 'ooo-flood', link!.tap, GUEST, '9', String(count), String(rate)], {
      timeoutMs: 600_000,
    });
    const { rtts, lost } = await pings;
    const report = JSON.parse(result.stdout.trim().split('\n').pop() || '{}') as Record<string, number>;
    const stats = await guestStats(vm);
    console.info(
      `out-of-order flood: ${count} segments at ${rate}/s in ${report.floodMs} ms; ping ${rtts.length} answered (${summary(rtts)}), ${lost} lost; ` +
        `guest: out of order ${stats['eth0.tcp.out_of_order']}, dropped from the queue ${stats['eth0.tcp.out_of_order_dropped']}; ` +
        `RTTs in order: ${rtts.map((r) => Math.round(r)).join(' ')}`,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(report.peerCount).toBe(report.sent);
    expect(lost).toBe(0);
  }, 900_000);

  it('finishes byte-exact when the receiver opens its zero window only in the ACK of a probe byte', async () => {
    const result = await link!.exec('/usr/bin/python3', [attacks, 'zero-window', link!.tap, GUEST, FAKE, '19', '3000', '1000', '2000'], {
      timeoutMs: 180_000,
    });
    const report = JSON.parse(result.stdout.trim().split('\n').pop() || '{}') as Record<string, number | boolean>;
    const stats = await guestStats(vm);
    console.info(
      `zero window: ${report.received} of 3000 bytes in ${report.ms} ms, ${report.probes} probes seen; ` +
        `guest: probes ${stats['eth0.tcp.zero_window_probes']}, challenge ACKs ${stats['eth0.tcp.challenge_acks']}`,
    );
    expect(report).toMatchObject({ received: 3000, patternOk: true, done: true });
  }, 240_000);
});
