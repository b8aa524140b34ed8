/**
 * @uos/net within its memory budget (issue 16), against Linux clients over a tap device in a network
 * namespace: idle connections by the thousand, HTTP with a new connection per request (ab), echo clients
 * that never read, receivers that never open their window; the guest stays alive and answers others,
 * its heap stays bounded, and it returns to within 10% of its baseline once the connections are closed
 * and TIME-WAIT has passed. A guest given too little memory for its limits says so at boot.
 *
 * The default run is scaled to keep about three minutes under TCG: 1,000 idle connections in -m 128M,
 * 1,000 HTTP requests in -m 32M and 5 rounds of floods. UOS_NET_MEMORY_FULL=1 runs the sizes
 * (10,000 idle connections: about 5 minutes, 1.5 of them opening; 20,000 requests: about 4 minutes at
 * 80-135 requests/s) and 20 rounds of floods: some twenty minutes in all on a busy 2-core host.
 */
import { join } from 'node:path';
import { ExitStatus, type Vm } from '@uos/vmrunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, here, repositoryRoot } from '../../harness.js';
import { type TapLink, type WatchedProcess, createTapLink, watchProcess } from '../../network.js';

const dir = here(import.meta.url);
const crowd = join(repositoryRoot, 'test', 'tools', 'tcp-crowd.mjs');
const tcpClient = join(repositoryRoot, 'test', 'tools', 'tcp-client.mjs');
const HOST = '10.0.2.1';
const GUEST = '10.0.2.15';
const MAC = '52:54:00:00:00:16';
const FULL = process.env.UOS_NET_MEMORY_FULL === '1';
const IDLE = FULL ? 10_000 : 1_000;
const REQUESTS = FULL ? 20_000 : 1_000;
/** Rounds of attacks (each a few floods of FLOOD_SECONDS), and how long each flood lasts. */
const ATTACK_ROUNDS = FULL ? 20 : 5;
const FLOOD_SECONDS = FULL ? 3 : 1;
/** TIME-WAIT in the tests, so that "once TIME-WAIT has passed" comes soon. */
const TIME_WAIT_MS = 5_000;

const tap = process.env.UOS_TEST_NO_TAP
  ? { unavailable: 'UOS_TEST_NO_TAP is set' }
  : await createTapLink('memory', { address: `${HOST}/24` });
const link: TapLink | undefined = 'unavailable' in tap ? undefined : tap;
// Clients that never read must stop the guest at once: Linux's receive buffers in the namespace are kept
// small (64 KiB, not the 32 MiB autotuning may reach), so a client's window closes after 64 KiB.
if (link) await link.exec('sysctl', ['-w', 'net.ipv4.tcp_rmem=4096 32768 65536']);
if (!link) console.warn(`@uos/net memory tests skipped: no tap device (${(tap as { unavailable: string }).unavailable})`);

interface Memory {
  heapUsed: number;
  heapPeak: number;
  totalBytes: number;
  freeBytes: number;
  budget: number;
  budgetUsed: number;
  budgetPeak: number;
  connections: number;
  timeWait: number;
  refusedMemory: number;
}

let tag = 0;
async function memory(vm: Vm): Promise<Memory> {
  const t = `m${++tag}`;
  vm.write(`memory ${t}\n`);
  const line = await vm.waitFor(`net: memory ${t} `, 60_000);
  return JSON.parse(line.slice(line.indexOf('{'))) as Memory;
}

async function start(mem: string, extra: string[] = []): Promise<Vm> {
  const vm = await boot(dir, {
    mem,
    args: ['static', `${GUEST}/24`, HOST, `timewait=${TIME_WAIT_MS}`, ...extra],
    wrapper: link!.qemuWrapper,
    config: { net: [{ device: 'virtio-net-pci', backend: 'tap' as const, name: link!.tap, mac: MAC }] },
  });
  await vm.waitFor('net: ready', 60_000);
  return vm;
}

/** Starts tcp-crowd in the namespace (with room for many descriptors); resolves with its first line. */
async function crowdOpen(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ process: WatchedProcess; opened: Record<string, number> }> {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const child = watchProcess(link!.spawn('env', [...vars, process.execPath, crowd, ...args]));
  await child.waitForOutput('\n', 900_000);
  return { process: child, opened: JSON.parse(child.stdout.split('\n')[0]!) as Record<string, number> };
}

/** Ends tcp-crowd's connections and waits for its report. */
async function crowdClose(child: WatchedProcess): Promise<Record<string, number>> {
  child.child.kill('SIGUSR1');
  const { stdout, code } = await child.ended;
  expect(code).toBe(0);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>;
}

/** The echo still answers a client of its own. */
async function echoAnswers(): Promise<void> {
  const result = await link!.exec(process.execPath, [tcpClient, 'echo', GUEST, '7', '20000', '9'], { timeoutMs: 120_000 });
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  expect(report.received).toBe(20000);
  expect(report.receivedSha256).toBe(report.sentSha256);
}

/** A few connections of each kind first, so that what a first use allocates once is in the baseline. */
async function warmUp(): Promise<void> {
  await echoAnswers();
  const curl = await link!.exec('curl', ['-sS', '-m', '20', `http://${GUEST}/warm`]);
  expect(curl.code, curl.stderr).toBe(0);
  const { process: few } = await crowdOpen(['idle', GUEST, '7', '20', '8']);
  await crowdClose(few);
}

/** Polls until the guest has no connections and no TIME-WAIT records; then the heap after a collection. */
async function settled(vm: Vm): Promise<Memory> {
  await expect
    .poll(
      async () => {
        const m = await memory(vm);
        return m.connections + m.timeWait;
      },
      { timeout: 150_000, interval: 2000 },
    )
    .toBe(0)
    .catch(async (error: Error) => {
      vm.write('connections left\n');
      throw new Error(`${error.message}\n${await vm.waitFor('net: connections left', 10_000).catch(() => '')}`);
    });
  return memory(vm);
}

const kib = (bytes: number): string => `${Math.round(bytes / 1024)} KiB`;

describe.skipIf(!link)('@uos/net within its memory budget over a tap device', () => {
  afterAll(() => link?.close());

  it('holds as many idle connections as its budget allows in -m 16M (1,000 at least), and refuses the rest cleanly', async () => {
    const vm = await start('16M');
    await warmUp();
    const base = await memory(vm);
    console.info(`-m 16M: heap ${kib(base.heapUsed)}, free ${kib(base.freeBytes)} of ${kib(base.totalBytes)}, budget ${kib(base.budget)}`);
    const { process: held, opened } = await crowdOpen(['idle', GUEST, '7', '4000', '64'], {
      TCP_CROWD_STOP_AFTER: '64',
      TCP_CROWD_CONNECT_MS: '3000',
    });
    const full = await memory(vm);
    console.info(
      `-m 16M holds ${full.connections} idle connections (tcp_connections_at_budget_16m): opened ${opened.opened}, then ${opened.timedOut} SYNs unanswered ` +
        `(refused for memory ${full.refusedMemory}); heap ${kib(full.heapUsed)}, budget ${kib(full.budgetUsed)} of ${kib(full.budget)}`,
    );
    expect(full.connections).toBeGreaterThanOrEqual(1000);
    expect(full.refusedMemory).toBeGreaterThan(0);
    // New connections are refused (their SYNs dropped) while the budget is under pressure; the guest is alive.
    const ping = await link!.exec('ping', ['-c', '3', '-i', '0.3', '-W', '2', GUEST]);
    expect(ping.stdout).toContain('3 packets transmitted, 3 received');
    await crowdClose(held);
    const after = await settled(vm);
    expect(after.heapUsed).toBeLessThanOrEqual(base.heapUsed * 1.1);
    vm.write('quit\n');
    await vm.expectExit(ExitStatus.ok);
  }, 1_800_000);

  it(`holds ${IDLE.toLocaleString('en')} idle connections in -m 128M while another client still gets its echo`, async () => {
    const vm = await start('128M');
    await warmUp();
    const base = await memory(vm);
    // Ended with FINs, not resets: Linux retransmits a FIN, while a reset lost among thousands (the guest's
    // receive ring overflows under TCG) would leave its connection open in the guest for good.
    const { process: held, opened } = await crowdOpen(['idle', GUEST, '7', String(IDLE), '64']);
    expect(opened).toMatchObject({ opened: IDLE, refused: 0, timedOut: 0, failed: 0 });
    const full = await memory(vm);
    expect(full.connections).toBe(IDLE);
    const perConnection = (full.heapUsed - base.heapUsed) / IDLE;
    console.info(
      `${IDLE} idle connections in ${opened.ms} ms: heap ${kib(base.heapUsed)} -> ${kib(full.heapUsed)}, ` +
        `${Math.round(perConnection)} bytes each (tcp_idle_connection_bytes); budget ${kib(full.budgetUsed)} of ${kib(full.budget)}`,
    );
    await echoAnswers();
    const closed = await crowdClose(held);
    expect(closed.closed).toBe(IDLE);
    const after = await settled(vm);
    console.info(`after closing: heap ${kib(after.heapUsed)} (baseline ${kib(base.heapUsed)}, peak ${kib(after.heapPeak)})`);
    expect(after.heapUsed).toBeLessThanOrEqual(base.heapUsed * 1.1);
    vm.write('quit\n');
    await vm.expectExit(ExitStatus.ok);
  }, 1_800_000);

  describe('in -m 32M', () => {
    let vm: Vm;
    beforeAll(async () => {
      vm = await start('32M');
      await warmUp();
    }, 300_000);
    afterAll(async () => {
      vm?.write('quit\n');
      await vm?.expectExit(ExitStatus.ok).catch(() => vm.kill());
    });

    it(`answers ${REQUESTS.toLocaleString('en')} HTTP requests with a new connection each (ab -c 10), its heap bounded throughout`, async () => {
      const base = await memory(vm);
      const ab = watchProcess(link!.spawn('ab', ['-n', String(REQUESTS), '-c', '10', '-s', '60', '-r', `http://${GUEST}/`]));
      const samples: Memory[] = [];
      let done = false;
      void ab.ended.then(() => {
        done = true;
      });
      // Every second while ab runs (1,000 requests take a few seconds), and once more as it ends, with
      // its TIME-WAIT records still held: never a run without a sample, which would bound nothing.
      while (!done) {
        await new Promise((r) => setTimeout(r, 1000));
        if (!done) samples.push(await memory(vm));
      }
      samples.push(await memory(vm));
      const { stdout, code } = await ab.ended;
      expect(code, stdout).toBe(0);
      const complete = Number(/Complete requests:\s+(\d+)/.exec(stdout)?.[1]);
      const failed = Number(/Failed requests:\s+(\d+)/.exec(stdout)?.[1]);
      const rate = /Requests per second:\s+([\d.]+)/.exec(stdout)?.[1];
      const most = Math.max(...samples.map((m) => m.heapUsed));
      const timeWait = Math.max(...samples.map((m) => m.timeWait));
      console.info(
        `ab: ${complete} requests, ${failed} failed, ${rate}/s; heap ${kib(base.heapUsed)} at the start, at most ${kib(most)} ` +
          `(${samples.length} samples), TIME-WAIT records at most ${timeWait}; budget ${kib(base.budget)}`,
      );
      expect(complete).toBe(REQUESTS);
      expect(failed).toBe(0);
      // Bounded: the connections' cost stays within the budget, whatever the number of requests.
      expect(most - base.heapUsed).toBeLessThan(base.budget);
      const after = await settled(vm);
      console.info(`after ab and TIME-WAIT: heap ${kib(after.heapUsed)} (baseline ${kib(base.heapUsed)})`);
      expect(after.heapUsed).toBeLessThanOrEqual(base.heapUsed * 1.1);
    }, 1_800_000);

    it('holds echo clients that never read until the budget refuses more, and still answers a client that reads', async () => {
      const base = await memory(vm);
      const { process: probe } = await crowdOpen(['probe', GUEST, '7', '2', '2']);
      const { process: hoard, opened } = await crowdOpen(['hoard', GUEST, '7', '1000', '8'], {
        TCP_CROWD_STOP_AFTER: '8',
        TCP_CROWD_CONNECT_MS: '10000',
      });
      const full = await memory(vm);
      const rounds = () =>
        probe.stdout
          .split('\n')
          .filter((line) => line.startsWith('{"probe"'))
          .map((line) => JSON.parse(line));
      const seen = rounds().length;
      await expect.poll(() => rounds().length, { timeout: 60_000 }).toBeGreaterThanOrEqual(seen + 3);
      const late = rounds().slice(-3);
      console.info(
        `${opened.opened} echo clients that never read, then ${opened.timedOut} refused; budget ${kib(full.budgetUsed)} of ${kib(full.budget)} ` +
          `(peak ${kib(full.budgetPeak)}), heap ${kib(full.heapUsed)}; the reading client's last echoes: ${JSON.stringify(late)}`,
      );
      expect(opened.opened).toBeGreaterThan(10);
      expect(opened.timedOut).toBeGreaterThan(0);
      expect(full.refusedMemory).toBeGreaterThan(0); // the SYNs went unanswered for memory, not for slowness
      // What must be kept (a segment already within an offered window) may pass the limit by that much.
      expect(full.budgetPeak).toBeLessThanOrEqual(full.budget + 16 * 1024);
      for (const round of late) expect(round).toMatchObject({ answered: 2, late: 0 });
      await crowdClose(hoard);
      await crowdClose(probe);
      const after = await settled(vm);
      expect(after.heapUsed).toBeLessThanOrEqual(base.heapUsed * 1.1);
    }, 1_800_000);

    it('holds 100 receivers that asked for 10 MB and never read within the budget, and gives it all back', async () => {
      const base = await memory(vm);
      const { process: sinks, opened } = await crowdOpen(['sink', GUEST, '19', '100', '10000000', '8'], { TCP_CROWD_CONNECT_MS: '10000' });
      await new Promise((r) => setTimeout(r, 10_000)); // the source fills what it may
      const full = await memory(vm);
      console.info(
        `100 zero-window receivers: ${opened.opened} opened; budget ${kib(full.budgetUsed)} of ${kib(full.budget)} (peak ${kib(full.budgetPeak)}), ` +
          `heap ${kib(base.heapUsed)} -> ${kib(full.heapUsed)}`,
      );
      expect(opened.opened).toBe(100);
      expect(full.budgetPeak).toBeLessThanOrEqual(full.budget + 16 * 1024);
      expect(full.heapUsed - base.heapUsed).toBeLessThan(full.budget);
      await crowdClose(sinks);
      const after = await settled(vm);
      console.info(`after: heap ${kib(after.heapUsed)} (baseline ${kib(base.heapUsed)})`);
      expect(after.heapUsed).toBeLessThanOrEqual(base.heapUsed * 1.1);
    }, 1_800_000);
  });

  it('says at boot when the VM has too little memory for the limits it is given', async () => {
    const vm = await boot(dir, {
      mem: '16M',
      args: ['static', `${GUEST}/24`, HOST, 'maxconn=20000'],
      wrapper: link!.qemuWrapper,
      config: { net: [{ device: 'virtio-net-pci', backend: 'tap' as const, name: link!.tap, mac: MAC }] },
    });
    const line = await vm.waitFor(/tcp\.maxConnections is 20000/, 60_000);
    expect(line).toMatch(/needs 78\.1 MiB \(4096 bytes each\), but the network stack's memory budget allows .* give the VM more memory/);
    await vm.expectExit(ExitStatus.jsPanic);
  }, 300_000);

  it(`keeps its heap flat across ${ATTACK_ROUNDS} rounds of floods, each followed by a ping, an echo and a statistics query`, async () => {
    const vm = await start('128M');
    await warmUp();
    const heap: number[] = [];
    const hping = (args: string[]) =>
      link!.exec('timeout', ['-s', 'INT', String(FLOOD_SECONDS), 'hping3', '-q', ...args, GUEST], { timeoutMs: 60_000 });
    for (let round = 0; round < ATTACK_ROUNDS; round++) {
      // SYNs from the host's own address (its stack resets each SYN-ACK, so the half-open connections end
      // at once instead of retrying for a minute, as those from random sources do: the attack tests have those).
      await hping(['-S', '-p', '80', '-i', 'u500']);
      await hping(['-A', '-p', '80', '-i', 'u500', '--rand-source']); // ACK flood: resets for nothing
      await hping(['-S', '-p', '80', '-a', GUEST, '-i', 'u10000']); // land attack: from the guest itself
      await hping(['--udp', '-p', '5353', '-i', 'u1000', '--rand-source']); // UDP to a closed port
      await hping(['-S', '-p', '80', '-f', '-d', '600', '-i', 'u2000']); // fragmented SYNs
      // Alive: it answers ping once it has worked through what the floods left in its queues.
      await expect
        .poll(async () => (await link!.exec('ping', ['-c', '1', '-W', '2', GUEST])).stdout, { timeout: 60_000, interval: 500 })
        .toContain('1 received');
      await echoAnswers();
      vm.write(`stats round${round}\n`);
      await vm.waitFor(`net: stats round${round} `, 60_000);
      const m = await settled(vm);
      heap.push(m.heapUsed);
    }
    const perRound = (heap[heap.length - 1]! - heap[1]!) / (heap.length - 2);
    console.info(`heap after each round of attacks: ${heap.map(kib).join(', ')}; ${Math.round(perRound)} bytes a round after the first`);
    // What the first round grows (tables that keep their size, code paths used for the first time) stays.
    // After it the heap moves in transient steps of 8 to 25 KiB that come back (20 rounds: 1,182 KiB after
    // the first, up to 1,207 on the way, 1,181 after the last), so a 5-round run may end on a step (+2.5%).
    // A steady leak like the one the issue saw (about 12 KB a round) would pass 5 rounds under this bound
    // (48 KB against about 60 KB) but fail the 20 rounds of UOS_NET_MEMORY_FULL=1 (228 KB).
    expect(heap[heap.length - 1]!).toBeLessThanOrEqual(heap[1]! * 1.05);
    vm.write('quit\n');
    await vm.expectExit(ExitStatus.ok);
  }, 1_800_000);
});
