import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CpuProfile, ExitStatus, imageSymbolizer, resolveProfile, summarize, toCpuProfile, validateCpuProfile } from '@uos/vmrunner';
import type { ProfilerEntry, ProfilerStatus } from '@uos/kernel';
import { afterAll, describe, expect, it } from 'vitest';
import { boot, here, repositoryRoot } from '../../harness.js';

const dir = here(import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), 'uos-profiler-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the stack sampler', () => {
  it('shows a known hot function as the top self-time entry of profiler.top(), with a plausible share', async () => {
    const vm = await boot(dir, { args: ['hot', '1500'] });
    const status = JSON.parse((await vm.waitFor('profiler: status ')).slice('profiler: status '.length)) as ProfilerStatus;
    const top = JSON.parse((await vm.waitFor('profiler: top ')).slice('profiler: top '.length)) as ProfilerEntry[];
    await vm.expectExit(0);
    expect(status).toMatchObject({ hz: 997, running: false, wholeRun: false, lost: 0 });
    expect(status.samples).toBeGreaterThan(200); // 1.5 s at about 1 kHz, less what TCG delays
    const [first, second] = top;
    expect(first).toMatchObject({ name: 'hotLoop', kind: 'js', url: 'service.ts', line: 5 });
    expect(second).toMatchObject({ name: 'coldLoop', kind: 'js', url: 'service.ts', line: 12 });
    // hotLoop does three quarters of the work.
    expect(first!.share).toBeGreaterThan(0.5);
    expect(first!.share).toBeLessThan(0.95);
    expect(first!.samples / second!.samples).toBeGreaterThan(1.5);
    expect(top.reduce((sum, e) => sum + e.share, 0)).toBeLessThanOrEqual(1.0000001);
  });

  it('keeps an idle VM silent with the sampler off, and idle while it samples', async () => {
    const vm = await boot(dir, { args: ['idle'] });
    const line = await vm.waitFor('profiler: idle ');
    await vm.expectExit(0);
    type Idle = { interrupts: number; wakeups: number };
    const { before, sampling, after, top } = JSON.parse(line.slice('profiler: idle '.length)) as {
      before: Idle;
      sampling: Idle;
      after: Idle;
      top: ProfilerEntry[];
    };
    // Off: only the sleep's own deadline (a few interrupts: TCG's timer may fire a hair early and be
    // re-armed), before and after sampling; nothing like a tick.
    expect(before.interrupts).toBeLessThanOrEqual(10);
    expect(after.interrupts).toBeLessThanOrEqual(10);
    // On: ticks at about 1 kHz (fewer when TCG is late), but the loop wakes only for its own deadline.
    expect(sampling.interrupts).toBeGreaterThan(100);
    expect(sampling.wakeups).toBeLessThanOrEqual(3);
    expect(top[0]).toMatchObject({ name: '(idle)', kind: 'idle' });
    expect(top[0]!.share).toBeGreaterThan(0.9);
  });

  it('leaves the report of an uncaught exception as it is while it samples at 10 kHz', async () => {
    const vm = await boot(dir, { args: ['panic'], profile: {} });
    await vm.expectExit(ExitStatus.jsPanic);
    expect(vm.output).toMatch(
      /\*\*\*\* PANIC \*\*\*\*\nUncaught exception in start\(\):\nError: failing while the sampler runs\n {4}at start \(service\.ts:\d+\)\n {4}at startService/,
    );
    // The host still gets the samples up to the panic, with the functions named.
    const guest = await vm.profile();
    expect(guest.samples.length).toBeGreaterThan(10);
    expect([...guest.functions.values()].map((f) => f.name)).toContain('hotLoop');
  });

  it('leaves the report of a CPU exception as it is while it samples at 10 kHz', async () => {
    const vm = await boot(dir, { args: ['fault'], profile: {} });
    await vm.expectExit(ExitStatus.cpuExceptionBase + 14);
    expect(vm.output).toContain('CPU exception 14: #PF page fault');
    expect(vm.output).toMatch(
      /JS stack \(innermost first\):\n {4}at fault \(native\)\n {4}at trigger \(@uos\/x86\/src\/index\.ts:\d+\)\n {4}at start \(service\.ts:\d+\)/,
    );
    expect((await vm.profile()).samples.length).toBeGreaterThan(10);
  });

  it('gives the host a profile of the window the service marked, whose nodes, samples and deltas agree', async () => {
    const vm = await boot(dir, { args: ['hot', '1000'], profile: {} });
    await vm.expectExit(0);
    const guest = await vm.profile();
    expect(guest.windows).toHaveLength(1);
    expect(guest.dropped).toBe(0);
    const resolved = resolveProfile(guest, imageSymbolizer(new Uint8Array(readFileSync(vm.image))));
    const cpu = toCpuProfile(resolved);
    expect(validateCpuProfile(cpu)).toEqual([]);
    const window = guest.windows[0]!;
    expect(cpu.endTime - cpu.startTime).toBeLessThanOrEqual((window.stopNs - window.startNs) / 1000);
    expect(cpu.samples.length).toBeGreaterThan(150);
    const [first] = summarize(resolved).entries;
    expect(first).toMatchObject({ name: 'hotLoop', url: 'service.ts', line: 5, kind: 'js' });
    // Every sample lies under the service's start(), not in the boot before the window.
    const start = cpu.nodes.find((n) => n.callFrame.functionName === 'start' && n.callFrame.url === 'service.ts');
    expect(start).toBeDefined();
  });

  it('uos boot --profile writes a whole-run .cpuprofile and folded stacks', () => {
    const cpuprofile = join(scratch, 'busy.cpuprofile');
    const folded = join(scratch, 'busy.folded');
    const cli = join(repositoryRoot, 'packages', 'vmrunner', 'bin', 'uos.js');
    const result = spawnSync(
      process.execPath,
      [cli, 'boot', dir, '--profile', cpuprofile, '--profile-folded', folded, '--profile-hz', '500', '--', 'busy', '800'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('profiler: work true');
    expect(result.stderr).toMatch(/uos: profile: \d+ samples at 500 Hz over [\d.]+ s -> /);
    expect(result.stderr).toMatch(/uos: +[\d.]+% {2}hotLoop \(service\.ts:5\)/);
    const cpu = JSON.parse(readFileSync(cpuprofile, 'utf8')) as CpuProfile;
    expect(validateCpuProfile(cpu)).toEqual([]);
    // The whole run: from boot (the bundle's first module) to exit, idle included.
    expect(cpu.nodes.some((n) => n.callFrame.functionName === 'hotLoop')).toBe(true);
    const lines = readFileSync(folded, 'utf8').trim().split('\n');
    for (const line of lines) expect(line).toMatch(/^[^;\n]+(;[^;\n]+)* \d+$/);
    const total = lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    expect(total).toBe(cpu.samples.length);
    expect(lines.some((line) => /;work \(service\.ts:\d+\);hotLoop \(service\.ts:5\)( |;)/.test(line))).toBe(true);
  });
});
