import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

const dir = here(import.meta.url);

const cases = [
  { kind: 'divide-error', vector: 0, report: /CPU exception 0: #DE divide error/ },
  { kind: 'invalid-opcode', vector: 6, report: /CPU exception 6: #UD invalid opcode/ },
  { kind: 'breakpoint', vector: 3, report: /CPU exception 3: #BP breakpoint/ },
  { kind: 'general-protection', vector: 13, report: /CPU exception 13: #GP general protection/ },
  {
    kind: 'null-pointer',
    vector: 14,
    report: /Page fault: write at 0x0, page not present\n {2}the address is in page 0: a null pointer dereference/,
  },
  {
    kind: 'write-text',
    vector: 14,
    report: /Page fault: write at 0x[0-9a-f]+, protection violation\n {2}the address is in read-only kernel text or data \(W\^X\)/,
  },
  {
    kind: 'execute-data',
    vector: 14,
    report: /Page fault: instruction fetch at 0x[0-9a-f]+, protection violation\n {2}the address is not executable \(W\^X\)/,
  },
  { kind: 'stack-overflow', vector: 14, report: /the address is the guard page of the main stack: a stack overflow/ },
  { kind: 'double-fault', vector: 8, report: /CPU exception 8: #DF double fault, error code 0x0\nThe CPU could not deliver an exception/ },
] as const;

describe('CPU exceptions', () => {
  for (const { kind, vector, report } of cases) {
    it(`${kind}: reports vector ${vector} with registers and a symbolised backtrace, exit ${ExitStatus.cpuExceptionBase + vector}`, async () => {
      const vm = await boot(dir, { args: [kind] });
      await vm.waitFor(`cpu-exceptions: triggering ${kind}`);
      await vm.expectExit(ExitStatus.cpuExceptionBase + vector);
      const out = vm.output;
      expect(out).toContain('**** PANIC ****');
      expect(out).toMatch(report);
      // RIP is named where it lies in kernel text; in NX data (execute-data) there is no symbol to give.
      expect(out).toMatch(
        kind === 'execute-data'
          ? /RIP 0x[0-9a-f]+\n/
          : kind === 'stack-overflow'
            ? /RIP 0x[0-9a-f]+ <recurse[.\w]*\+0x[0-9a-f]+>/
            : /RIP 0x[0-9a-f]+ <trigger_fault\+0x[0-9a-f]+>/,
      );
      expect(out).toMatch(/CR2 0x[0-9a-f]{16} {2}CR3 0x[0-9a-f]{16}/);
      expect(out).toMatch(/RAX 0x[0-9a-f]{16} {2}RBX/);
      expect(out).toMatch(/Backtrace:\n {2}#0 /);
      // The native frames lead back to the JS binding that asked for the fault.
      if (kind !== 'stack-overflow') expect(out).toMatch(/<js_fault\+0x[0-9a-f]+>/);
    });
  }

  it('a kernel panic reports its reason and exits with the kernel-panic status', async () => {
    const vm = await boot(dir, { args: ['kernel-panic'] });
    await vm.expectExit(ExitStatus.kernelPanic);
    expect(vm.output).toContain('Reason: a panic requested by the service');
    expect(vm.output).toMatch(/<trigger_fault\+0x[0-9a-f]+>/);
  });

  it('an unknown fault kind is an ordinary JS error with a TypeScript stack', async () => {
    const vm = await boot(dir, { args: ['tickle'] });
    await vm.expectExit(ExitStatus.jsPanic);
    expect(vm.output).toContain("RangeError: unknown fault kind 'tickle'");
    expect(vm.output).toMatch(/at start \(service\.ts:8\)/);
  });
});
