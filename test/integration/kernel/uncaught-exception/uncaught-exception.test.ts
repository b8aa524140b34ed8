import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

const dir = here(import.meta.url);

describe('uncaught exception', () => {
  it('ends the service with a panic report that names the TypeScript file and line', async () => {
    const vm = await boot(dir);
    await vm.waitFor('uncaught-exception: starting');
    const exit = await vm.expectExit(ExitStatus.jsPanic);
    expect(exit.reason).toMatch(/uncaught exception/);
    const out = vm.output;
    expect(out).toContain('**** PANIC ****');
    expect(out).toContain('Uncaught exception in start():');
    expect(out).toContain('Error: boom: the service threw on purpose');
    // service.ts: explode() throws on line 4, prepare() calls it on line 8, start() calls prepare() on line 14.
    expect(out).toMatch(/at explode \(service\.ts:4\)/);
    expect(out).toMatch(/at prepare \(service\.ts:8\)/);
    expect(out).toMatch(/at start \(service\.ts:14\)/);
    // Kernel frames point into the kernel package's TypeScript, not the bundle.
    expect(out).toMatch(/at startService \(@uos\/kernel\/src\/service\.ts:\d+\)/);
    // Frames of the generated entry and of the bundle's top level are hidden; nothing is left unmapped.
    expect(out).not.toMatch(/uos-entry|service\.js:\d+/);
  });
});
