import { ExitStatus, Vm, buildImage, imageInfo } from '@uos/vmrunner';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boot, build, here } from '../../harness.js';

const dir = here(import.meta.url);

describe('hello world', () => {
  for (const machine of ['pc', 'q35', 'microvm'] as const) {
    it(`prints its line and exits 0 on ${machine}`, async () => {
      const vm = await boot(dir, { machine });
      await vm.waitFor('Hello world - OS included!');
      const exit = await vm.expectExit(ExitStatus.ok);
      expect(exit.status).toBe(0);
      // Nothing but the boot device table (machines with PCI) and the service's own line.
      const lines = vm.output.trim().split('\n');
      expect(lines.at(-1)).toBe('Hello world - OS included!');
      const bootLog = lines.slice(0, -1);
      if (machine === 'microvm') expect(bootLog).toEqual([]);
      else {
        expect(bootLog[0]).toBe('uos: PCI devices:');
        for (const row of bootLog.slice(1))
          expect(row).toMatch(/^ {2}[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] {2}[0-9a-f]{4}:[0-9a-f]{4} {2}[0-9a-f]{4} {2}.+ {2}no driver$/);
      }
    });
  }

  for (const machine of ['pc', 'microvm'] as const) {
    it(`runs in 4 MiB of RAM on ${machine}`, async () => {
      const vm = await boot(dir, { machine, mem: '4M' });
      await vm.waitFor('Hello world - OS included!');
      await vm.expectExit(ExitStatus.ok);
    });
  }

  it('builds with the compact engine and names the packages it holds', async () => {
    const result = await build(dir);
    expect(result.engine).toBe('compact');
    expect(result.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['@uos/kernel', '@uos/x86']));
    expect(result.packages.map((p) => p.name)).not.toContain('@uos/net');
  });

  it('is optimised for size by default (no network), and boots when built for speed', async () => {
    expect((await build(dir)).optimize).toBe('size');
    const output = join(tmpdir(), `uos-hello-speed-${process.pid}.pvh.elf`);
    const speed = await buildImage({ serviceDir: dir, boot: 'pvh', optimize: 'speed', output });
    try {
      expect(speed.optimize).toBe('speed');
      expect(imageInfo(speed.image)?.optimize).toBe('speed');
      // -O2 makes the engine larger: the speed variant is the bigger image.
      expect(speed.imageBytes).toBeGreaterThan((await build(dir, 'microvm')).imageBytes);
      const vm = await Vm.start({ image: speed.image, machine: 'microvm' });
      try {
        await vm.waitFor('Hello world - OS included!');
        await vm.expectExit(ExitStatus.ok);
      } finally {
        await vm.kill();
      }
    } finally {
      rmSync(output, { force: true });
    }
  });
});
