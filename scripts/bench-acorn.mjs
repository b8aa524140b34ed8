#!/usr/bin/env node
// Acorn's benchmarks (part of `pnpm bench`; alone: `node scripts/bench-acorn.mjs`), under TCG on `pc` with
// QEMU's user networking and the port forwarded to the host, as `npm start` runs it:
// acorn_image_bytes (and the assets section apart: acorn_assets_bytes, acorn_image_without_assets_bytes),
// acorn_min_mem_kib (smallest -m that still answers 200, by bisection), acorn_first_200_ms_median (QEMU
// start to the first 200 for GET /, DHCP included), acorn_rps_static and acorn_rps_api (wrk: 1 thread,
// 10 keep-alive connections, 10 s, /style.css and /api/squirrels), and the host CPU the QEMU process uses
// over 10 s: acorn_idle_cpu_pct with nobody connected, acorn_watched_cpu_pct with one client on the
// dashboard's stream (/api/stats/stream, what a browser on /dashboard holds open). Figures, not tests.
// In the same run, where ../shared/bench/linux-baseline/build.sh has built it (UOS_BENCH_LINUX, default
// /tmp/linuxbase), the peer: the Linux + Node guest answering a 5-byte "hello" on the same QEMU (`pc`, TCG,
// user networking, -m 256M, its harness's command line): linux_first_200_ms (QEMU start to the first 200),
// linux_idle_cpu_pct, and linux_rps_small / linux_p99_ms_small (the same wrk, after the harness's 30 s
// warm-up for V8's JIT, UOS_BENCH_LINUX_WARMUP). UOS_BENCH_LINUX=none leaves it out.
// UOS_BENCH_ACORN_OPTIMIZE=size|speed builds Acorn at that level instead of `auto` (speed: it bundles @uos/net).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildImage, findQemu, loadVmConfig, publishPorts, qemuArgs } from '@uos/vmrunner';

const root = new URL('..', import.meta.url).pathname;
const service = join(root, 'examples', 'acorn');
const RUNS = Number(process.env.UOS_BENCH_RUNS ?? 5);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function cpuSeconds(pid) {
  let nanoseconds = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    nanoseconds += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
  }
  return nanoseconds / 1e9;
}

/** The Linux + Node guest of ../shared/bench/linux-baseline, when it is built. */
const linuxDir = process.env.UOS_BENCH_LINUX ?? '/tmp/linuxbase';
const linuxBuilt = () => linuxDir !== 'none' && existsSync(join(linuxDir, 'vmlinuz')) && existsSync(join(linuxDir, 'initrd-http'));

/**
 * One GET; resolves with the status, or 0 when the connection failed or gave no answer within `timeoutMs`.
 * The poll for the first 200 gives up on a try after 100 ms: QEMU's user networking accepts the host's
 * connection at once and forwards its SYN to the guest, and a SYN that arrives before the guest's NIC is up
 * waits for slirp's own retransmission (about 0.5 to 1 s later), which a longer wait would measure instead
 * of the guest.
 */
function status(port, path = '/', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', () => resolve(0));
    request.on('timeout', () => request.destroy());
  });
}

/** Starts QEMU with Acorn, its port 80 on a free host port; `first200Ms` once GET / answered 200 (polled every 5 ms). */
async function start(image, memKiB, timeoutMs = 30_000) {
  const port = await freePort();
  const config = publishPorts(loadVmConfig(join(service, 'vm.json')), [
    { address: '127.0.0.1', hostPort: port, guestPort: 80, protocol: 'tcp' },
  ]).config;
  return startQemu(qemuArgs({ image, machine: 'pc', memMiB: memKiB / 1024, accel: 'tcg', net: config.net }), port, timeoutMs);
}

/** Starts the Linux + Node guest as its harness does (user networking, its port 80 on a free host port). */
async function startLinux(timeoutMs = 120_000) {
  const port = await freePort();
  const args = [
    ...['-M', 'pc', '-accel', 'tcg', '-smp', '1', '-m', '256M', '-nodefaults', '-no-user-config', '-display', 'none'],
    ...['-serial', 'stdio', '-no-reboot', '-kernel', join(linuxDir, 'vmlinuz'), '-initrd', join(linuxDir, 'initrd-http')],
    ...['-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:80`, '-device', 'virtio-net-pci,netdev=n0'],
    ...['-append', 'console=ttyS0 quiet panic=-1 root=/dev/ram0 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off'],
  ];
  return startQemu(args, port, timeoutMs);
}

async function startQemu(args, port, timeoutMs) {
  const started = performance.now();
  const child = spawn(findQemu(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  child.stdout.resume();
  child.stderr.resume();
  let first200Ms;
  while (!exited && performance.now() - started < timeoutMs) {
    if ((await status(port, '/', 100)) === 200) {
      first200Ms = performance.now() - started;
      break;
    }
    await sleep(5);
  }
  const stop = () =>
    new Promise((resolve) => {
      if (exited) return resolve();
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  return { child, port, first200Ms, stop };
}

async function minimumMemory(image) {
  // Smallest -m that answers, in 256 KiB steps: known bad at 2 MiB, expected good at 16 MiB.
  let bad = 2048;
  let good = 16 * 1024;
  const works = async (kib) => {
    const vm = await start(image, kib, 20_000);
    await vm.stop();
    return vm.first200Ms !== undefined;
  };
  if (!(await works(good))) return null;
  while (good - bad > 256) {
    const mid = Math.round((good + bad) / 2 / 256) * 256;
    if ((await works(mid)) && (await works(mid))) good = mid;
    else bad = mid;
  }
  return good;
}

function wrk(port, path, seconds = 10) {
  const run = spawnSync('wrk', ['-t1', '-c10', `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}${path}`], { encoding: 'utf8' });
  if (run.error) return { error: `wrk did not run: ${run.error.message}` };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(run.stdout);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(run.stdout);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(run.stdout);
  const scale = { us: 0.001, ms: 1, s: 1000 };
  return {
    rps: rps ? Number(rps[1]) : null,
    p99_ms: p99 ? round(Number(p99[1]) * scale[p99[2]], 2) : null,
    ...(errors ? { errors: errors[0] } : {}),
  };
}

async function cpuOver(pid, seconds) {
  const before = cpuSeconds(pid);
  const started = performance.now();
  await sleep(seconds * 1000);
  return round(((cpuSeconds(pid) - before) / ((performance.now() - started) / 1000)) * 100, 3);
}

export async function benchAcorn() {
  const build = await buildImage({ serviceDir: service, optimize: process.env.UOS_BENCH_ACORN_OPTIMIZE || undefined });
  const assetsBytes = build.assets?.sectionBytes ?? 0;
  const result = {
    acorn_image_bytes: build.imageBytes,
    acorn_assets_bytes: assetsBytes,
    acorn_image_without_assets_bytes: build.imageBytes - assetsBytes,
    acorn_assets_plain_bytes: (build.assets?.files ?? []).reduce((n, f) => n + f.size, 0),
  };
  const firsts = [];
  for (let i = 0; i < RUNS; i++) {
    const vm = await start(build.image, 16 * 1024);
    await vm.stop();
    if (vm.first200Ms !== undefined) firsts.push(vm.first200Ms);
  }
  result.acorn_first_200_ms_median = firsts.length ? round(median(firsts)) : null;
  result.acorn_first_200_runs = firsts.length;
  result.acorn_min_mem_kib = await minimumMemory(build.image);

  const vm = await start(build.image, 16 * 1024);
  try {
    const staticRun = wrk(vm.port, '/style.css');
    const apiRun = wrk(vm.port, '/api/squirrels');
    result.acorn_rps_static = staticRun.rps;
    result.acorn_p99_ms_static = staticRun.p99_ms;
    result.acorn_rps_api = apiRun.rps;
    result.acorn_p99_ms_api = apiRun.p99_ms;
    if (staticRun.error || staticRun.errors || apiRun.error || apiRun.errors) result.acorn_wrk_notes = [staticRun, apiRun];
    await sleep(6000); // wrk's connections closed, the server's keep-alive timers gone
    const seconds = Number(process.env.UOS_BENCH_IDLE_SECONDS ?? 10);
    result.acorn_idle_cpu_pct = await cpuOver(vm.child.pid, seconds);
    const watcher = spawn('curl', ['-sS', '-N', `http://127.0.0.1:${vm.port}/api/stats/stream`], { stdio: ['ignore', 'pipe', 'ignore'] });
    watcher.stdout.resume();
    await sleep(2000);
    result.acorn_watched_cpu_pct = await cpuOver(vm.child.pid, seconds);
    watcher.kill('SIGKILL');
  } finally {
    await vm.stop();
  }
  if (linuxBuilt()) Object.assign(result, await benchLinuxPeer());
  return result;
}

/** The Linux + Node guest's figures for a small response, measured as Acorn's are. */
async function benchLinuxPeer() {
  const vm = await startLinux();
  const result = { linux_first_200_ms: vm.first200Ms === undefined ? null : round(vm.first200Ms) };
  try {
    if (vm.first200Ms === undefined) return result;
    await sleep(1000);
    result.linux_idle_cpu_pct = await cpuOver(vm.child.pid, Number(process.env.UOS_BENCH_IDLE_SECONDS ?? 10));
    const warmup = Number(process.env.UOS_BENCH_LINUX_WARMUP ?? 30);
    if (warmup > 0) wrk(vm.port, '/', warmup);
    const run = wrk(vm.port, '/');
    result.linux_rps_small = run.rps;
    result.linux_p99_ms_small = run.p99_ms;
    if (run.error || run.errors) result.linux_wrk_notes = [run];
  } finally {
    await vm.stop();
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchAcorn();
  process.stdout.write(`${JSON.stringify({ accel: 'tcg', ...result })}\n`);
}
