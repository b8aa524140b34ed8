import { spawn } from 'node:child_process';
import { DEBUG_EXIT_DEVICE, findQemu, qemuArgs } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { build, here } from '../../harness.js';

const dir = here(import.meta.url);

/** Boots without the isa-debug-exit device; resolves with QEMU's exit code and the console. */
async function bootWithoutDebugExit(machine: 'pc' | 'q35' | 'microvm', status: number): Promise<{ code: number | null; output: string }> {
  const { image } = await build(dir, machine);
  const args = qemuArgs({ image, machine, memMiB: 32, accel: 'tcg', append: String(status) });
  const index = args.indexOf(DEBUG_EXIT_DEVICE);
  expect(index).toBeGreaterThan(0);
  args.splice(index - 1, 2);
  const child = spawn(findQemu(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  return { code, output: output.replace(/\r\n/g, '\n') };
}

describe('power off without isa-debug-exit', () => {
  for (const machine of ['pc', 'q35', 'microvm'] as const) {
    it(`powers off through ACPI on ${machine} and prints the status first`, async () => {
      const { code, output } = await bootWithoutDebugExit(machine, 5);
      expect(output).toContain('power-off: exiting with 5');
      expect(output).toContain('uos: exit status 5');
      // QEMU ends by itself (ACPI S5), not by our kill.
      expect(code).toBe(0);
    });
  }
});
