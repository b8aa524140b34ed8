import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

const dir = here(import.meta.url);

interface TopEntry {
  name: string;
  kind: string;
  url: string;
  line: number;
  samples: number;
}

/** Decodes profilerTop's flat array. */
function parseTop(line: string): { samples: number; lost: number; entries: TopEntry[] } {
  const flat = JSON.parse(line.slice(line.indexOf('[')));
  const entries: TopEntry[] = [];
  for (let i = 5; i + 5 <= flat.length; i += 5) {
    entries.push({ name: flat[i], kind: flat[i + 1], url: flat[i + 2], line: flat[i + 3], samples: flat[i + 4] });
  }
  return { samples: flat[0], lost: flat[1], entries };
}

describe('the stack sampler', () => {
  it('shows a known hot function as the top self-time entry, with a plausible share', async () => {
    const vm = await boot(dir, { args: ['hot', '1500'] });
    const line = await vm.waitFor('profiler: top ');
    await vm.expectExit(0);
    const top = parseTop(line);
    expect(top.samples).toBeGreaterThan(200); // 1.5 s at about 1 kHz, less what TCG delays
    expect(top.lost).toBe(0);
    const [first, second] = top.entries;
    expect(first).toMatchObject({ name: 'hotLoop', kind: 'js', url: 'service.ts', line: 5 });
    expect(second).toMatchObject({ name: 'coldLoop', kind: 'js', url: 'service.ts', line: 12 });
    // hotLoop does three quarters of the work.
    expect(first!.samples / top.samples).toBeGreaterThan(0.5);
    expect(first!.samples / top.samples).toBeLessThan(0.95);
    expect(first!.samples / second!.samples).toBeGreaterThan(1.5);
  });

  it('leaves the report of an uncaught exception as it is while it samples at 10 kHz', async () => {
    const vm = await boot(dir, { args: ['panic'] });
    await vm.expectExit(ExitStatus.jsPanic);
    expect(vm.output).toMatch(
      /\*\*\*\* PANIC \*\*\*\*\nUncaught exception in start\(\):\nError: failing while the sampler runs\n {4}at start \(service\.ts:\d+\)\n {4}at startService/,
    );
  });

  it('leaves the report of a CPU exception as it is while it samples at 10 kHz', async () => {
    const vm = await boot(dir, { args: ['fault'] });
    await vm.expectExit(ExitStatus.cpuExceptionBase + 14);
    expect(vm.output).toContain('CPU exception 14: #PF page fault');
    expect(vm.output).toMatch(/JS stack \(innermost first\):\n {4}at fault \(native\)\n {4}at start \(service\.ts:\d+\)/);
  });
});
