import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

const dir = here(import.meta.url);
const ORDER = 'lifecycle: order microtask, timeout 0, periodic, periodic, periodic, timeout 200';

describe('service lifecycle', () => {
  it('passes the command line to start(args), runs timers and promises in order, then stops when idle', async () => {
    const vm = await boot(dir, { args: ['first', 'two words', 'x=1'] });
    await vm.waitFor('lifecycle: args ["first","two words","x=1"]');
    await vm.waitFor(ORDER);
    await vm.waitFor('lifecycle: uptime positive, wall clock set');
    await vm.waitFor('lifecycle: stop hook ran');
    await vm.expectExit(ExitStatus.ok);
  });

  it('os.exit(status) ends the VM with that status and skips the stop hook', async () => {
    const vm = await boot(dir, { args: ['exit', '7'] });
    await vm.expectExit(7);
    expect(vm.output).toContain(ORDER);
    expect(vm.output).not.toContain('stop hook');
  });

  it('os.shutdown() runs the stop hook and exits 0', async () => {
    const vm = await boot(dir, { args: ['shutdown'] });
    await vm.expectExit(ExitStatus.ok);
    expect(vm.output).toContain('lifecycle: stop hook ran');
  });

  it('works the same on microvm (PVH)', async () => {
    const vm = await boot(dir, { machine: 'microvm', args: ['exit', '3'] });
    await vm.expectExit(3);
    expect(vm.output).toContain(ORDER);
  });
});
