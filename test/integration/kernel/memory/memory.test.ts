import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

describe('memory map, heap usage, statistics, log ring', () => {
  it('reports each kernel section with its protection and the kernel statistics', async () => {
    const vm = await boot(here(import.meta.url));
    await vm.expectExit(ExitStatus.ok);
    const out = vm.output;
    expect(out).toContain('memory: text r-x true 100000');
    expect(out).toMatch(/memory: rodata r-- true [0-9a-f]+/);
    expect(out).toMatch(/memory: data rw- true/);
    expect(out).toMatch(/memory: stacks rw- true/);
    expect(out).toMatch(/memory: payload r-- true/);
    expect(out).toContain('memory: guard --- true 0');
    expect(out).toContain('memory: nx true, ram regions true');
    expect(out).toContain('memory: heap grew true, peak true, blocks true');
    for (const name of [
      'kernel.cpu.halted_cycles',
      'kernel.cpu.total_cycles',
      'kernel.cpu.wakeups',
      'kernel.heap.used_bytes',
      'kernel.loop.turns',
      'kernel.memory.free_bytes',
      'kernel.timers.fired',
      'kernel.timers.started',
    ]) {
      expect(out).toMatch(new RegExp(`memory: stats .*\\b${name.replace(/\./g, '\\.')}\\b`));
    }
    expect(out).toContain('memory: used bytes stat true');
    expect(out).toContain('memory: log has first line true');
  });
});
