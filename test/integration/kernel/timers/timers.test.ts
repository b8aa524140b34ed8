import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

interface TimerEvent {
  label: string;
  deadline: number;
  setOrder: number;
}

describe('timers', () => {
  it('fire in deadline order, never after being cancelled, with promise jobs run between callbacks', async () => {
    const vm = await boot(here(import.meta.url));
    const line = await vm.waitFor(/^timers: \[/);
    const events = JSON.parse(line.slice('timers: '.length)) as TimerEvent[];
    const labels = events.map((event) => event.label);
    // Every timer fired once, none that was cancelled.
    expect([...labels].sort()).toEqual(
      [
        'a 90',
        'after await null',
        'await 1 ms',
        'b 10',
        'c 0',
        'd 0 after c',
        'e 20',
        'f nested 0 after e',
        'g microtask inside e',
        'interval 1',
        'interval 2',
        'interval 3',
        'periodic',
      ].sort(),
    );
    // In the order of their deadlines (ties in the order they were set), whatever the host's stalls did
    // to those deadlines; a promise job runs right after the callback that queued it.
    for (let i = 1; i < events.length; i++) {
      const [before, now] = [events[i - 1]!, events[i]!];
      const inOrder = before.deadline < now.deadline || (before.deadline === now.deadline && before.setOrder <= now.setOrder);
      expect(inOrder, `${now.label} (due ${now.deadline}) came after ${before.label} (due ${before.deadline})`).toBe(true);
    }
    expect(labels[labels.indexOf('e 20') + 1]).toBe('g microtask inside e');
    expect(labels[labels.indexOf('await 1 ms') + 1]).toBe('after await null');
    expect(labels.indexOf('c 0')).toBeLessThan(labels.indexOf('d 0 after c'));
    await vm.waitFor('timers: active 0');
    await vm.expectExit(ExitStatus.ok);
  });
});
