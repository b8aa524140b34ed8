import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

describe('an exception in a timer callback', () => {
  it('ends the service with its TypeScript stack', async () => {
    const vm = await boot(here(import.meta.url));
    await vm.waitFor('timer-exception: scheduling');
    await vm.expectExit(ExitStatus.jsPanic);
    expect(vm.output).toContain('Uncaught exception in a timer callback:');
    expect(vm.output).toMatch(/TypeError: cannot read property 'celsius' of null/);
    expect(vm.output).toMatch(/at parseReading \(service\.ts:9\)/);
    expect(vm.output).toMatch(/at <anonymous> \(service\.ts:16\)/);
    expect(vm.output).toMatch(/at runDue \(@uos\/kernel\/src\/timer-queue\.ts:\d+\)/);
  });
});
