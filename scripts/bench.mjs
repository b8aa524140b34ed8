#!/usr/bin/env node
// `pnpm bench`: boots examples/hello_world on pc and microvm under TCG several times and prints, last,
// one JSON line: per machine type image_bytes, boot_to_service_ms_median (QEMU start to the service's
// first line), boot_to_exit_ms_median, boot_breakdown (bench/boot: firmware_ms, the kernel's stages since
// kernel entry and qemu_own_ms, medians), min_mem_kib (smallest -m that still runs hello, by bisection), and
// idle_cpu_pct (host CPU time of the QEMU process over 10 s while bench/idle waits on a timer an hour
// ahead), with that idle VM's statman snapshot; microvm_pcie: the boot figures on microvm with its PCIe host
// bridge (pcie=on) and a virtio-net-pci on it; virtio_frames_per_s and vmxnet3_frames_per_s: raw 60-byte
// frames through each NIC driver each way (virtio-net over its modern and legacy transports, vmxnet3 with
// MSI-X), over QEMU's dgram netdev on loopback (host to guest kept to 200 frames in flight by the guest's
// progress reports: UDP has no backpressure; UOS_BENCH_FRAMES frames, default 20000); and, over a tap
// device in a network namespace of its own (needs root; null with the reason otherwise),
// tcp_guest_to_host_mbyte_s and tcp_host_to_guest_mbyte_s (Linux TCP to and from @uos/net in the guest over
// virtio-net, test/tools/tcp-client.mjs against test/integration/net/stack) and ping_rtt_ms_median (Linux
// pings the guest), and the same over vmxnet3 as vmxnet3_tcp_guest_to_host_mbyte_s, …;
// and the stack sampler's cost at its default rate (bench/sampler): sampler_overhead_ratio, a CPU-bound loop's
// time with the sampler on over its time with it off (alternating rounds, so the host's load hits both alike),
// sampler_tick_us (the interrupt's own time per sample, entry and exit not included) and samples per second;
// and netsim_us_per_data_segment (bench/netsim: two @uos/net stacks in one guest move 2 MB over a simulated
// wire, the guest's time divided by the data segments; its ACKs included) with netsim_cpu_us_per_data_segment,
// the host CPU time QEMU used meanwhile per data segment (what the guest's time would be on an idle host);
// and HTTP over a tap (scripts/bench-http.mjs: @uos/http in test/integration/net/stack): http_ready_ms
// (QEMU start to the first 200), http_rps_keepalive and http_p99_ms (wrk), http_rps_new_connection (ab),
// http_min_mem_kib (the smallest -m that serves);
// and TCP's memory over a tap (scripts/bench-net-memory.mjs: test/integration/net/memory in -m 16M):
// tcp_idle_connection_bytes (heap per idle connection) and tcp_connections_at_budget_16m (idle connections
// held when the memory budget starts refusing).
// Acorn's figures come last (scripts/bench-acorn.mjs: image and assets bytes, smallest -m, first 200,
// keep-alive requests/s, host CPU idle and with the dashboard's stream open).
// UOS_BENCH_ONLY=boot,virtio,vmxnet3,tcp,sampler,netsim,http,memory,acorn runs only those parts (vmxnet3: its frames and TCP); UOS_BENCH_PROFILE=<dir> also writes
// CPU profiles (.cpuprofile and .folded, see docs/architecture/profiling.md) of the TCP transfers over the
// tap (each direction's window) and of the netsim transfer into <dir>.
// Benchmarks, not tests: nothing passes or fails on a number.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Vm, buildImage, findQemu, imageSymbolizer, qemuArgs, resolveProfile, summarize, toCpuProfile, toFolded } from '@uos/vmrunner';
import { benchAcorn } from './bench-acorn.mjs';
import { httpOverTap } from './bench-http.mjs';
import { tcpMemoryOverTap } from './bench-net-memory.mjs';
import { openTapNamespace, sh } from './bench-tap.mjs';

const root = new URL('..', import.meta.url).pathname;
const service = join(root, 'examples', 'hello_world');
const LINE = 'Hello world - OS included!';
const RUNS = Number(process.env.UOS_BENCH_RUNS ?? 11);
const qemu = findQemu();
const ONLY = process.env.UOS_BENCH_ONLY?.split(',');
const part = (name) => !ONLY || ONLY.includes(name);
const PROFILE_DIR = process.env.UOS_BENCH_PROFILE;

/** Writes <name>.cpuprofile and <name>.folded of a profiled VM's samples (one window of them, when given). */
async function writeProfile(vm, name, window) {
  const guest = await vm.profile();
  const symbols = imageSymbolizer(new Uint8Array(readFileSync(vm.image)));
  const resolved = resolveProfile(window === undefined ? guest : { ...guest, windows: [guest.windows[window]] }, symbols);
  mkdirSync(PROFILE_DIR, { recursive: true });
  writeFileSync(join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(toCpuProfile(resolved)));
  writeFileSync(join(PROFILE_DIR, `${name}.folded`), toFolded(resolved));
  const { samples, entries } = summarize(resolved);
  const top = entries.slice(0, 12).map((e) => `${e.name} ${((e.self / samples) * 100).toFixed(1)}%`);
  process.stdout.write(`profile ${name}: ${samples} samples; self: ${top.join(', ')}\n`);
}

function bootOnce(image, machine, memKiB, options = {}, line = LINE) {
  return new Promise((resolve) => {
    const args = qemuArgs({ image, machine, memMiB: memKiB / 1024, accel: 'tcg', ...options });
    const started = performance.now();
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let lineAt;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (lineAt === undefined && output.includes(line)) lineAt = performance.now() - started;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 1 && lineAt !== undefined, lineMs: lineAt, exitMs: performance.now() - started, output });
    });
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Where a boot's time goes (bench/boot: hello's boot with the guest's clock read at each stage): the
 * firmware's share (reset to kernel entry, from the TSC), each kernel stage, and QEMU's own (process start,
 * machine set-up, output: the host's time to the line less the guest's time since reset). Medians.
 */
async function bootStages(machine) {
  const build = await buildImage({ serviceDir: join(root, 'bench', 'boot'), boot: machine === 'microvm' ? 'pvh' : 'multiboot' });
  const runs = [];
  for (let i = 0; i < Math.max(5, RUNS >> 1); i++) {
    const run = await bootOnce(build.image, machine, 32 * 1024, {}, 'boot: {');
    const m = /boot: (\{.*\})/.exec(run.output);
    if (run.ok && m) runs.push({ ...JSON.parse(m[1]), lineMs: run.lineMs });
  }
  if (!runs.length) return null;
  const stages = {};
  for (const [name] of runs[0].stages) stages[name] = round(median(runs.map((r) => r.stages.find(([n]) => n === name)?.[1] ?? 0)), 2);
  const guest = (r) => r.entryMs + r.stages.at(-1)[1];
  return {
    firmware_ms: round(median(runs.map((r) => r.entryMs)), 2),
    kernel_stages_ms: stages,
    qemu_own_ms: round(median(runs.map((r) => r.lineMs - guest(r))), 1),
  };
}

async function minimumMemory(image, machine) {
  // Smallest working size in 64 KiB steps: known good at 8 MiB, known bad at 1 MiB.
  let bad = 1024;
  let good = 8192;
  if (!(await bootOnce(image, machine, good)).ok) return null;
  while (good - bad > 64) {
    const mid = Math.round((good + bad) / 2 / 64) * 64;
    // Two tries: a size must work reliably to count.
    const works = (await bootOnce(image, machine, mid)).ok && (await bootOnce(image, machine, mid)).ok;
    if (works) good = mid;
    else bad = mid;
  }
  return good;
}

/** CPU seconds all threads of a process have run, in nanoseconds' precision (/proc/<pid>/task/<tid>/schedstat). */
function cpuSeconds(pid) {
  let nanoseconds = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    nanoseconds += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
  }
  return nanoseconds / 1e9;
}

async function idleCpu(machine) {
  const build = await buildImage({ serviceDir: join(root, 'bench', 'idle'), boot: machine === 'microvm' ? 'pvh' : 'multiboot' });
  const vm = await Vm.start({ image: build.image, machine, mem: 32, accel: 'tcg' });
  try {
    await vm.waitFor('idle: ready', 30_000);
    await sleep(1000); // let QEMU settle after boot
    const seconds = Number(process.env.UOS_BENCH_IDLE_SECONDS ?? 10);
    const before = cpuSeconds(vm.pid);
    const started = performance.now();
    await sleep(seconds * 1000);
    const used = cpuSeconds(vm.pid) - before;
    const elapsed = (performance.now() - started) / 1000;
    vm.write('stats\n');
    const line = await vm.waitFor(/^idle: stats /, 10_000);
    const stats = JSON.parse(line.slice('idle: stats '.length));
    vm.write('quit\n');
    await vm.waitForExit(10_000);
    return {
      idle_cpu_pct: Number(((used / elapsed) * 100).toFixed(5)),
      idle_cpu_ns: Math.round(used * 1e9),
      idle_seconds: Math.round(elapsed * 10) / 10,
      stats,
    };
  } finally {
    await vm.kill();
  }
}

/** Raw frames per second each way through a NIC driver, with its raw-frame test service (prefix: its console lines). */
async function framesPerSecond({ device, properties, service: serviceName, prefix }) {
  const frames = Number(process.env.UOS_BENCH_FRAMES ?? 20000);
  const socket = dgram.createSocket('udp4');
  await new Promise((r) => socket.bind(0, '127.0.0.1', r));
  socket.setRecvBufferSize(16 << 20);
  const probe = dgram.createSocket('udp4');
  await new Promise((r) => probe.bind(0, '127.0.0.1', r));
  const qemuPort = probe.address().port;
  probe.close();
  const netdev = `local.type=inet,local.host=127.0.0.1,local.port=${qemuPort},remote.type=inet,remote.host=127.0.0.1,remote.port=${socket.address().port}`;
  const build = await buildImage({ serviceDir: join(root, 'test', 'integration', 'hw', serviceName) });
  const vm = await Vm.start({
    image: build.image,
    machine: 'pc',
    mem: 64,
    accel: 'tcg',
    config: { net: [{ device, backend: 'dgram', name: netdev, ...(properties ? { options: properties } : {}) }] },
  });
  try {
    const ready = await vm.waitFor(`${prefix}: ready `, 30_000);
    const mac = / ((?:[0-9a-f]{2}:){5}[0-9a-f]{2}) /.exec(ready)[1];
    let received = 0;
    let done;
    const allArrived = new Promise((r) => {
      done = r;
    });
    socket.on('message', (m) => {
      if (m.readUInt16BE(12) === 0x88b5 && ++received === frames) done();
    });
    const sendStarted = performance.now();
    vm.write(`send ${frames} 88b5 ff:ff:ff:ff:ff:ff\n`);
    // The time limit's timer is cancelled once the frames are in: a pending 120 s timer kept `pnpm bench`
    // alive for minutes after it printed its JSON.
    const limit = new AbortController();
    await Promise.race([allArrived, sleep(120_000, undefined, { signal: limit.signal }).catch(() => {})]);
    limit.abort();
    const guestToHost = received / ((performance.now() - sendStarted) / 1000);

    vm.write(`expect ${frames} 88b6\n`);
    await vm.waitFor(`${prefix}: expecting ${frames}`, 10_000);
    const frame = Buffer.alloc(60);
    mac.split(':').forEach((h, i) => {
      frame[i] = parseInt(h, 16);
    });
    frame.writeUInt16BE(0x88b6, 12);
    let taken = 0;
    let partial = '';
    const stopFollowing = vm.onOutput((text) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        const m = /\w+: progress (\d+)/.exec(line);
        if (m) taken = Number(m[1]);
      }
    });
    const progress = () => taken;
    const receiveStarted = performance.now();
    for (let sequence = 0; sequence < frames; sequence++) {
      while (sequence - progress() >= 200) await sleep(0);
      const f = Buffer.from(frame);
      f.writeUInt32BE(sequence, 14);
      socket.send(f, qemuPort, '127.0.0.1');
    }
    await vm.waitFor(new RegExp(`${prefix}: received ${frames} in`), 120_000);
    const hostToGuest = frames / ((performance.now() - receiveStarted) / 1000);
    stopFollowing();
    vm.write('quit\n');
    return { guest_to_host: Math.round(guestToHost), host_to_guest: Math.round(hostToGuest) };
  } finally {
    await vm.kill();
    socket.close();
  }
}

/** The stack sampler's cost at its default rate: bench/sampler times a loop with it off and on, alternately. */
async function samplerOverhead() {
  const build = await buildImage({ serviceDir: join(root, 'bench', 'sampler') });
  const vm = await Vm.start({ image: build.image, machine: 'pc', mem: 32, accel: 'tcg', args: ['30', '80000'] });
  try {
    const line = await vm.waitFor(/^sampler: /, 300_000);
    await vm.waitForExit(30_000);
    const d = JSON.parse(line.slice('sampler: '.length));
    const sum = (values) => values.reduce((a, b) => a + b, 0);
    return {
      sampler_overhead_ratio: round(sum(d.on) / sum(d.off), 4),
      sampler_tick_us: round(d.samplingUs / d.samples, 2),
      sampler_samples_per_s: Math.round(d.samples / (sum(d.on) / 1000)),
      sampler_hz: d.hz,
    };
  } finally {
    await vm.kill();
  }
}

const results = {};
/** TCP throughput both ways and ping RTT between Linux and @uos/net on a `device` NIC over a tap, in a namespace made here. */
async function tcpOverTap(device) {
  const unavailable = (reason) => ({
    tcp_guest_to_host_mbyte_s: null,
    tcp_host_to_guest_mbyte_s: null,
    ping_rtt_ms_median: null,
    tcp_unavailable: reason,
  });
  const tap = openTapNamespace(`bench-${device}`);
  if (tap.error) return unavailable(tap.error);
  const { inNamespace } = tap;
  let vm;
  try {
    const build = await buildImage({ serviceDir: join(root, 'test', 'integration', 'net', 'stack') });
    vm = await Vm.start({
      image: build.image,
      machine: 'pc',
      accel: 'tcg',
      mem: '128M',
      args: ['static', '10.0.2.15/24', '10.0.2.1'],
      wrapper: inNamespace,
      config: { net: [{ device, backend: 'tap', name: 'tap0' }] },
      ...(PROFILE_DIR ? { profile: {} } : {}),
    });
    await vm.waitFor('net: ready', 30_000);
    const window = async (command) => {
      if (!PROFILE_DIR) return;
      vm.write(`profile ${command}\n`);
      await vm.waitFor(`net: profile ${command}`, 10_000);
    };
    const client = (mode, bytes) => {
      const result = sh([
        ...inNamespace,
        process.execPath,
        join(root, 'test', 'tools', 'tcp-client.mjs'),
        mode,
        '10.0.2.15',
        mode === 'discard' ? '9' : '19',
        String(bytes),
      ]);
      if (result.status !== 0) throw new Error(`tcp-client ${mode}: ${result.stderr}`);
      return JSON.parse(result.stdout.trim());
    };
    const BYTES = 16 * 1024 * 1024;
    client('discard', 1024 * 1024); // warm up
    await window('start');
    const toGuest = client('discard', BYTES);
    await window('stop');
    if (toGuest.peerCount !== BYTES) throw new Error(`the guest counted ${toGuest.peerCount} of ${BYTES} bytes`);
    await window('start');
    const fromGuest = client('source', BYTES);
    await window('stop');
    if (fromGuest.received !== BYTES || !fromGuest.patternOk)
      throw new Error(`received ${fromGuest.received} of ${BYTES} bytes, pattern ${fromGuest.patternOk}`);
    const ping = sh([...inNamespace, 'ping', '-c', '20', '-i', '0.05', '10.0.2.15']);
    const rtts = [...ping.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    return {
      tcp_guest_to_host_mbyte_s: round(BYTES / 1e6 / (fromGuest.ms / 1000), 2),
      tcp_host_to_guest_mbyte_s: round(BYTES / 1e6 / (toGuest.ms / 1000), 2),
      ping_rtt_ms_median: rtts.length ? round(median(rtts), 3) : null,
    };
  } catch (error) {
    return unavailable(`failed: ${error.message}`);
  } finally {
    vm?.kill();
    await vm?.waitForExit();
    tap.close();
    if (vm && PROFILE_DIR) {
      const nic = device === 'vmxnet3' ? '-vmxnet3' : '';
      await writeProfile(vm, `tcp${nic}-host-to-guest`, 0).catch((e) => process.stderr.write(`bench: no profile: ${e.message}\n`));
      await writeProfile(vm, `tcp${nic}-guest-to-host`, 1).catch((e) => process.stderr.write(`bench: no profile: ${e.message}\n`));
    }
  }
}

/** bench/netsim: 2 MB between two stacks in one guest; guest time per data segment (its ACKs included). */
async function netsimTransfer() {
  const build = await buildImage({ serviceDir: join(root, 'bench', 'netsim') });
  const run = async (profile) => {
    const vm = await Vm.start({
      image: build.image,
      machine: 'pc',
      mem: 128,
      accel: 'tcg',
      args: ['2', profile ? 'on' : 'off', 'wait'],
      ...(profile ? { profile: {} } : {}),
    });
    try {
      await vm.waitFor('netsim: ready', 60_000);
      const cpuBefore = cpuSeconds(vm.pid);
      vm.write('go\n');
      const line = await vm.waitFor(/^netsim: \{/, 600_000);
      const cpu = cpuSeconds(vm.pid) - cpuBefore;
      await vm.waitForExit(60_000);
      if (profile) await writeProfile(vm, 'netsim');
      return { ...JSON.parse(line.slice('netsim: '.length)), cpu };
    } finally {
      await vm.kill();
    }
  };
  const result = await run(false);
  if (PROFILE_DIR) await run(true);
  return {
    netsim_us_per_data_segment: result.usPerDataSegment,
    netsim_cpu_us_per_data_segment: Math.round((result.cpu * 1e6) / result.dataSegments),
    netsim_mbyte_s: result.mbytePerS,
    netsim_segments: { data: result.dataSegments, ack: result.ackSegments },
  };
}

if (part('boot')) {
  for (const machine of ['pc', 'microvm']) {
    const build = await buildImage({ serviceDir: service, boot: machine === 'microvm' ? 'pvh' : 'multiboot' });
    await bootOnce(build.image, machine, 32 * 1024); // warm the page cache
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await bootOnce(build.image, machine, 32 * 1024));
    const good = runs.filter((r) => r.ok);
    if (good.length !== runs.length)
      process.stderr.write(`bench: ${runs.length - good.length} of ${runs.length} boots on ${machine} failed\n`);
    const entry = {
      image_bytes: build.imageBytes,
      boot_to_service_ms_median: round(median(good.map((r) => r.lineMs))),
      boot_to_exit_ms_median: round(median(good.map((r) => r.exitMs))),
      min_mem_kib: await minimumMemory(build.image, machine),
      runs: good.length,
    };
    entry.boot_breakdown = await bootStages(machine);
    const idle = await idleCpu(machine);
    entry.idle_cpu_pct = idle.idle_cpu_pct;
    entry.idle_cpu_ns = idle.idle_cpu_ns;
    process.stdout.write(`${machine}: idle ${idle.idle_seconds} s, statman ${JSON.stringify(idle.stats)}\n`);
    process.stdout.write(`${machine}: ${JSON.stringify(entry)}\n`);
    results[machine] = entry;
  }
  // What microvm's PCIe host bridge (pcie=on, which the vmrunner adds for a PCI NIC) costs at boot:
  // hello with the bridge and a virtio-net-pci on it (scanned through ECAM, BARs assigned; hello binds no
  // driver), next to microvm's figure above.
  const build = await buildImage({ serviceDir: service, boot: 'pvh' });
  const nic = { pcie: true, net: [{ device: 'virtio-net-pci', backend: 'user' }] };
  await bootOnce(build.image, 'microvm', 32 * 1024, nic);
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await bootOnce(build.image, 'microvm', 32 * 1024, nic));
  const good = runs.filter((r) => r.ok);
  results.microvm_pcie = {
    boot_to_service_ms_median: round(median(good.map((r) => r.lineMs))),
    boot_to_exit_ms_median: round(median(good.map((r) => r.exitMs))),
    runs: good.length,
  };
  process.stdout.write(`microvm with pcie=on and a virtio-net-pci: ${JSON.stringify(results.microvm_pcie)}\n`);
}
const virtio = {};
if (part('virtio')) {
  for (const [name, properties] of [
    ['modern', undefined],
    ['legacy', 'disable-modern=on'],
  ]) {
    virtio[name] = await framesPerSecond({ device: 'virtio-net-pci', properties, service: 'virtio-net', prefix: 'virtio' });
    process.stdout.write(`virtio ${name}: ${JSON.stringify(virtio[name])} frames/s\n`);
  }
}
const vmxnet3 = part('vmxnet3') ? await framesPerSecond({ device: 'vmxnet3', service: 'vmxnet3', prefix: 'vmxnet3' }) : undefined;
if (vmxnet3) process.stdout.write(`vmxnet3: ${JSON.stringify(vmxnet3)} frames/s\n`);
const tcp = part('tcp') ? await tcpOverTap('virtio-net-pci') : {};
if (part('tcp')) process.stdout.write(`tcp over tap (virtio-net): ${JSON.stringify(tcp)}\n`);
const vmxnet3Tcp = part('vmxnet3')
  ? Object.fromEntries(Object.entries(await tcpOverTap('vmxnet3')).map(([key, value]) => [`vmxnet3_${key}`, value]))
  : {};
if (part('vmxnet3')) process.stdout.write(`tcp over tap (vmxnet3): ${JSON.stringify(vmxnet3Tcp)}\n`);
const netsim = part('netsim') ? await netsimTransfer() : {};
if (part('netsim')) process.stdout.write(`netsim: ${JSON.stringify(netsim)}\n`);
const sampler = part('sampler') ? await samplerOverhead() : {};
if (part('sampler')) process.stdout.write(`sampler: ${JSON.stringify(sampler)}\n`);
const http = part('http') ? await httpOverTap({ root, qemu }) : {};
if (part('http')) process.stdout.write(`http over tap: ${JSON.stringify(http)}\n`);
const memory = part('memory') ? await tcpMemoryOverTap({ root }) : {};
if (part('memory')) process.stdout.write(`tcp memory over tap: ${JSON.stringify(memory)}\n`);
const acorn = part('acorn') ? await benchAcorn() : {};
if (part('acorn')) process.stdout.write(`acorn: ${JSON.stringify(acorn)}\n`);
process.stdout.write(
  `${JSON.stringify({
    accel: 'tcg',
    ...results,
    ...(part('virtio') ? { virtio_frames_per_s: virtio } : {}),
    ...(vmxnet3 ? { vmxnet3_frames_per_s: vmxnet3 } : {}),
    ...tcp,
    ...vmxnet3Tcp,
    ...netsim,
    ...sampler,
    ...http,
    ...memory,
    ...acorn,
  })}\n`,
);
// Nothing should outlive the JSON line: if a handle still holds the process 2 s later, name it and exit.
setTimeout(() => {
  process.stderr.write(`bench: still running after the results, held by ${process.getActiveResourcesInfo().join(', ')}; exiting\n`);
  process.exit(0);
}, 2000).unref();
