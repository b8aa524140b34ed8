import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

describe('unhandled rejection', () => {
  it('ends the service with the rejection reason and its TypeScript stack', async () => {
    const vm = await boot(here(import.meta.url));
    await vm.waitFor('unhandled-rejection: starting');
    await vm.expectExit(ExitStatus.jsPanic);
    expect(vm.output).toContain('Unhandled promise rejection:');
    expect(vm.output).toContain('TypeError: configuration is missing');
    expect(vm.output).toMatch(/at loadConfiguration \(service\.ts:5\)/);
  });
});
