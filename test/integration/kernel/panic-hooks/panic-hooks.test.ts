import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

const dir = here(import.meta.url);

describe('panic hooks and actions', () => {
  it('runs every hook after a JS panic, even past one that throws, then exits', async () => {
    const vm = await boot(dir, { args: ['exit', 'js'] });
    await vm.expectExit(ExitStatus.jsPanic);
    expect(vm.output).toContain('panic-hooks: first hook: exception, status 64');
    expect(vm.output).toContain('panic-hooks: third hook: Uncaught exception in start():');
    expect(vm.output.indexOf('Error: deliberate failure')).toBeLessThan(vm.output.indexOf('panic-hooks: first hook'));
  });

  it('after a CPU exception prints the JS stack that was running and runs the hooks', async () => {
    const vm = await boot(dir, { args: ['exit', 'cpu'] });
    await vm.expectExit(ExitStatus.cpuExceptionBase + 14);
    expect(vm.output).toMatch(
      /JS stack \(innermost first\):\n {4}at fault \(native\)\n {4}at trigger \(@uos\/x86\/src\/index\.ts:\d+\)\n {4}at start \(service\.ts:14\)/,
    );
    expect(vm.output).toContain('panic-hooks: first hook: cpu-exception, status 94');
    expect(vm.output).toContain('panic-hooks: third hook: #PF page fault');
  });

  it('resets the machine under the reboot action (QEMU runs with -no-reboot, so it ends)', async () => {
    const vm = await boot(dir, { args: ['reboot', 'js'] });
    await vm.waitFor('uos: rebooting after a panic');
    const exit = await vm.waitForExit(30_000);
    expect(exit.status).toBeUndefined();
    expect(exit.reason).toMatch(/reset or powered off without reporting a status/);
    expect(vm.output).toContain('panic-hooks: third hook');
  });

  it('halts instead of exiting under the halt action', async () => {
    const vm = await boot(dir, { args: ['halt', 'js'] });
    await vm.waitFor('uos: halted after a panic (exit status would be 64)');
    expect(vm.output).toContain('panic-hooks: third hook');
    // Still running: the runner has to stop it.
    const exit = await vm.waitForExit(1000);
    expect(exit.reason).toMatch(/timed out/);
  });
});
