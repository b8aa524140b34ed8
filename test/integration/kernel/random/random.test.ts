import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

const dir = here(import.meta.url);

async function check(cpuModel: string): Promise<string> {
  const vm = await boot(dir, { config: { cpu: { model: cpuModel } } });
  await vm.expectExit(ExitStatus.ok);
  expect(vm.output).toContain('random: distinct true, zero false');
  const share = Number(/random: ones (\d\.\d\d)/.exec(vm.output)?.[1]);
  expect(share).toBeGreaterThanOrEqual(0.48);
  expect(share).toBeLessThanOrEqual(0.52);
  expect(vm.output).toMatch(/random: uuid [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/);
  expect(vm.output).toContain('random: refused TypeError, RangeError');
  return vm.output;
}

describe('random numbers', () => {
  it('come from RDRAND where the CPU has it, with no warning', async () => {
    const output = await check('max');
    expect(output).toContain('random: source rdrand');
    expect(output).not.toContain('no RDRAND');
  });

  it('come from TSC jitter on a CPU without RDRAND/RDSEED, and the boot log says so', async () => {
    const output = await check('qemu64');
    expect(output).toContain('random: source jitter');
    expect(output).toContain('uos: warning: the CPU has no RDRAND or RDSEED');
  });
});
