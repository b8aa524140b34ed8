import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

describe('interrupts from a device the test triggers', () => {
  it('delivers the serial console receive interrupt to an irq subscriber, without losing input', async () => {
    const vm = await boot(here(import.meta.url));
    await vm.waitFor('interrupts: ready');
    vm.write('hello\n');
    await vm.waitFor('interrupts: got "hello"');
    // Lines that arrive while the handler runs are seen on a later turn, never lost.
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i} ${'x'.repeat(i * 3)}`);
    vm.write(`${lines.join('\n')}\n`);
    for (const line of lines) await vm.waitFor(`interrupts: got "${line}"`);
    vm.write('quit\n');
    const report = await vm.waitFor(/interrupts: COM1 vector 36 fired \d+ times/);
    expect(Number(/fired (\d+) times/.exec(report)?.[1])).toBeGreaterThanOrEqual(2);
    // With nothing left to wait for, the service ends by itself.
    await vm.expectExit(ExitStatus.ok);
  });
});
