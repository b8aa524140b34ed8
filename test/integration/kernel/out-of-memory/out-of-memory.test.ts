import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

const dir = here(import.meta.url);

describe('out of memory', () => {
  it('panics with heap statistics, runs the panic hooks and exits with the out-of-memory status', async () => {
    const vm = await boot(dir);
    await vm.waitFor(/out-of-memory: free \d+ KiB/);
    await vm.expectExit(ExitStatus.outOfMemory, 120_000);
    expect(vm.output).toContain('**** PANIC ****');
    expect(vm.output).toMatch(/Out of memory: the heap could not give \d+ bytes|InternalError: out of memory/);
    expect(vm.output).toMatch(/Heap: \d+ KiB in \d+ live blocks \(peak \d+ KiB\), \d+ KiB in slabs/);
    expect(vm.output).toContain('out-of-memory: panic hook saw out-of-memory (status 65)');
  });

  it('refuses one huge allocation with a catchable error first', async () => {
    const vm = await boot(dir, { args: ['large'] });
    await vm.waitFor(/out-of-memory: large allocation refused: (RangeError|InternalError)/);
    await vm.expectExit(ExitStatus.outOfMemory, 120_000);
  });
});
