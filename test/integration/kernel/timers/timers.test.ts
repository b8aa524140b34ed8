import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

describe('timers', () => {
  it('fire in deadline order, never after being cancelled, with promise jobs run between callbacks', async () => {
    const vm = await boot(here(import.meta.url));
    const line = await vm.waitFor(/^timers: c 0/);
    expect(line).toBe(
      `timers: ${[
        'c 0',
        'd 0 after c',
        'await 1 ms',
        'after await null',
        'b 10',
        'e 20',
        'g microtask inside e',
        'f nested 0 after e',
        'a 90',
        'interval 1',
        'interval 2',
        'interval 3',
        'periodic',
      ].join(' | ')}`,
    );
    await vm.waitFor('timers: active 0');
    await vm.expectExit(ExitStatus.ok);
  });
});
