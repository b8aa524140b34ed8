#!/usr/bin/env node
// `pnpm bench`: boots examples/hello_world on pc and microvm under TCG several times and prints, last,
// one JSON line: per machine type image_bytes, boot_to_service_ms_median (QEMU start to the service's
// first line), boot_to_exit_ms_median, and min_mem_kib (smallest -m that still runs hello, by bisection).
// Benchmarks, not tests: nothing here passes or fails on a number.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildImage, findQemu, qemuArgs } from '@uos/vmrunner';

const root = new URL('..', import.meta.url).pathname;
const service = join(root, 'examples', 'hello_world');
const LINE = 'Hello world - OS included!';
const RUNS = Number(process.env.UOS_BENCH_RUNS ?? 11);
const qemu = findQemu();

function bootOnce(image, machine, memKiB) {
  return new Promise((resolve) => {
    const args = qemuArgs({ image, machine, memMiB: memKiB / 1024, accel: 'tcg' });
    const started = performance.now();
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let lineAt;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (lineAt === undefined && output.includes(LINE)) lineAt = performance.now() - started;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 1 && lineAt !== undefined, lineMs: lineAt, exitMs: performance.now() - started });
    });
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (n) => Math.round(n * 10) / 10;

async function minimumMemory(image, machine) {
  // Smallest working size in 64 KiB steps: known good at 8 MiB, known bad at 1 MiB.
  let bad = 1024;
  let good = 8192;
  if (!(await bootOnce(image, machine, good)).ok) return null;
  while (good - bad > 64) {
    const mid = Math.round((good + bad) / 2 / 64) * 64;
    // Two tries: a size must work reliably to count.
    const works = (await bootOnce(image, machine, mid)).ok && (await bootOnce(image, machine, mid)).ok;
    if (works) good = mid; else bad = mid;
  }
  return good;
}

const results = {};
for (const machine of ['pc', 'microvm']) {
  const build = await buildImage({ serviceDir: service, boot: machine === 'microvm' ? 'pvh' : 'multiboot' });
  await bootOnce(build.image, machine, 32 * 1024); // warm the page cache
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await bootOnce(build.image, machine, 32 * 1024));
  const good = runs.filter((r) => r.ok);
  if (good.length !== runs.length) process.stderr.write(`bench: ${runs.length - good.length} of ${runs.length} boots on ${machine} failed\n`);
  const entry = {
    image_bytes: build.imageBytes,
    boot_to_service_ms_median: round(median(good.map((r) => r.lineMs))),
    boot_to_exit_ms_median: round(median(good.map((r) => r.exitMs))),
    min_mem_kib: await minimumMemory(build.image, machine),
    runs: good.length,
  };
  process.stdout.write(`${machine}: ${JSON.stringify(entry)}\n`);
  results[machine] = entry;
}
process.stdout.write(`${JSON.stringify({ accel: 'tcg', ...results })}\n`);
