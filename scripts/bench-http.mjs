// The HTTP part of `pnpm bench`: @uos/http in test/integration/net/stack (a fetch handler on port 80 that
// answers `hello from uOS: <path>`) over a tap device in a network namespace of its own, loaded by the
// clients compare.sh uses. Figures:
//   http_ready_ms            QEMU's start to the first 200 (median of 5 boots on pc; the client retries
//                            every few milliseconds and the namespace knows the guest's MAC, so neither
//                            Linux's ARP nor its SYN retransmission timer is measured)
//   http_rps_keepalive       wrk, 1 thread, 10 connections, 10 s (after a 3 s warm-up), requests/s
//   http_p99_ms              that run's 99th percentile latency
//   http_rps_new_connection  ab, 10 concurrent, a new connection per request (HTTP/1.0), 500 requests
//   http_min_mem_kib         the smallest -m (64 KiB steps) at which the guest answers its first 200 and
//                            then 100 requests from ab without a failure, twice in a row
// Needs root (namespace, tap); otherwise every figure is null with the reason.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildImage, qemuArgs } from '@uos/vmrunner';
import { openTapNamespace, sh } from './bench-tap.mjs';

const GUEST = '10.0.2.15';
const MAC = '52:54:00:12:34:56';

/**
 * Prints the wall-clock time (ms) of the first 200 from GUEST:80: a new connection every 5 ms (at most 40
 * in flight, each given 100 ms to connect and 3 s to answer), so the first that the guest accepts answers.
 */
const POLLER = `
const net = require('node:net');
let inFlight = 0;
const attempt = () => {
  if (inFlight >= 40) return;
  inFlight++;
  const socket = net.connect({ host: '${GUEST}', port: 80 });
  let text = '';
  // A try that is not connected after 100 ms gives up (its SYN may have gone before the guest's NIC was
  // up, and Linux would resend it only after a second); a connected one waits 3 s for its answer.
  let give = setTimeout(() => socket.destroy(), 100);
  socket.on('connect', () => {
    clearTimeout(give);
    give = setTimeout(() => socket.destroy(), 3000);
    socket.write('GET / HTTP/1.1\\r\\nHost: guest\\r\\nConnection: close\\r\\n\\r\\n');
  });
  socket.on('data', (d) => {
    text += d;
    if (text.startsWith('HTTP/1.1 200')) { console.log(Date.now()); process.exit(0); }
  });
  socket.on('close', () => { clearTimeout(give); inFlight--; });
  socket.on('error', () => {});
};
setInterval(attempt, 5);
setTimeout(() => { console.log('timeout'); process.exit(1); }, Number(process.argv[1]));
`;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function unavailable(reason) {
  return {
    http_ready_ms: null,
    http_rps_keepalive: null,
    http_p99_ms: null,
    http_rps_new_connection: null,
    http_min_mem_kib: null,
    http_unavailable: reason,
  };
}

/** wrk's latency figure in ms ("850.12us", "3.20ms", "1.02s"). */
function milliseconds(text) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}

export async function httpOverTap({ root, qemu }) {
  const tap = openTapNamespace('benchhttp', { guest: GUEST, mac: MAC });
  if (tap.error) return unavailable(tap.error);
  const { inNamespace } = tap;
  const guests = new Set();
  /** Starts the guest in the namespace with `memKiB`; resolves the child and its start time. */
  const start = (image, memKiB) => {
    const args = qemuArgs({
      image,
      machine: 'pc',
      memMiB: memKiB / 1024,
      accel: 'tcg',
      append: `static ${GUEST}/24 10.0.2.1`,
      net: [{ device: 'virtio-net-pci', backend: 'tap', name: 'tap0', mac: MAC }],
    });
    const startedAt = Date.now();
    const child = spawn(inNamespace[0], [...inNamespace.slice(1), qemu, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.output = '';
    child.stdout.on('data', (d) => {
      child.output += d;
    });
    guests.add(child);
    child.on('exit', () => guests.delete(child));
    return { child, startedAt };
  };
  const stop = async (child) => {
    if (child.exitCode === null && child.signalCode === null) {
      const ended = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await ended;
    }
  };
  /** The epoch ms of the first 200, or null after `timeoutMs`. */
  const firstOk = (timeoutMs) =>
    new Promise((resolve) => {
      const poller = spawn(inNamespace[0], [...inNamespace.slice(1), process.execPath, '-e', POLLER, String(timeoutMs)], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      poller.stdout.on('data', (d) => {
        out += d;
      });
      poller.on('exit', () => {
        const at = Number(out.trim());
        resolve(Number.isFinite(at) && at > 0 ? at : null);
      });
    });
  try {
    const { image } = await buildImage({ serviceDir: join(root, 'test', 'integration', 'net', 'stack') });

    const ready = [];
    for (let i = 0; i < 5; i++) {
      const polled = firstOk(30_000);
      await sleep(300); // the poller runs before QEMU starts
      const { child, startedAt } = start(image, 128 * 1024);
      const at = await polled;
      await stop(child);
      if (at !== null) ready.push(at - startedAt);
    }

    const { child } = start(image, 128 * 1024);
    if ((await firstOk(60_000)) === null) throw new Error(`the guest did not answer HTTP:\n${child.output}`);
    const client = (args, timeout) => sh([...inNamespace, ...args], timeout);
    client(['wrk', '-t1', '-c10', '-d3s', `http://${GUEST}/`], 60_000);
    const wrk = client(['wrk', '-t1', '-c10', '-d10s', '--latency', `http://${GUEST}/`], 60_000).stdout;
    client(['ab', '-q', '-n', '50', '-c', '10', `http://${GUEST}/`], 120_000);
    const ab = client(['ab', '-q', '-n', '500', '-c', '10', `http://${GUEST}/`], 300_000).stdout;
    await stop(child);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(wrk)?.[1]);
    const p99 = milliseconds(/^\s+99%\s+(\S+)/m.exec(wrk)?.[1] ?? '');
    const abRps = Number(/Requests per second:\s+([\d.]+)/.exec(ab)?.[1]);
    const abFailed = Number(/Failed requests:\s+(\d+)/.exec(ab)?.[1] ?? 0);

    /** Whether the guest serves with `memKiB`: its first 200, then 100 requests from ab without a failure. */
    const serves = async (memKiB) => {
      const polled = firstOk(20_000);
      await sleep(300);
      const guest = start(image, memKiB);
      const ok =
        (await polled) !== null &&
        /Failed requests:\s+0\b/.test(client(['ab', '-q', '-n', '100', '-c', '10', `http://${GUEST}/`], 60_000).stdout);
      await stop(guest.child);
      return ok;
    };
    let good = 32 * 1024;
    let bad = 2 * 1024;
    let minimum = null;
    if (await serves(good)) {
      while (good - bad > 64) {
        const mid = Math.round((good + bad) / 2 / 64) * 64;
        if ((await serves(mid)) && (await serves(mid))) good = mid;
        else bad = mid;
      }
      minimum = good;
    }
    return {
      http_ready_ms: ready.length ? round(median(ready)) : null,
      http_rps_keepalive: Number.isFinite(rps) ? round(rps) : null,
      http_p99_ms: p99 === null ? null : round(p99, 2),
      http_rps_new_connection: Number.isFinite(abRps) ? round(abRps) : null,
      http_new_connection_failures: abFailed,
      http_min_mem_kib: minimum,
      http_ready_runs_ms: ready,
    };
  } catch (error) {
    return unavailable(`failed: ${error.message}`);
  } finally {
    for (const child of [...guests]) await stop(child);
    tap.close();
  }
}
