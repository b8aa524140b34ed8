import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, build, here } from '../../harness.js';

const dir = here(import.meta.url);

describe('a service without the driver', () => {
  it('builds an image with none of the driver code', async () => {
    const result = await build(dir);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes('driver-virtionet'))).toBe(false);
    expect(inputs.some((i) => i.includes('driver-vmxnet3'))).toBe(false);
    expect(inputs.some((i) => i.includes('packages/hw/'))).toBe(false);
    expect(result.packages.map((p) => p.name)).not.toContain('@uos/driver-virtionet');
    expect(result.packages.map((p) => p.name)).not.toContain('@uos/driver-vmxnet3');
  });

  it('names the devices that have no driver in its boot log', async () => {
    const vm = await boot(dir);
    await vm.expectExit(ExitStatus.ok);
    expect(vm.output).toMatch(/^ {2}00:0[0-9a-f]\.0 {2}1af4:1000 {2}0200 {2}Ethernet controller {5}no driver$/m);
    expect(vm.output).toMatch(/^ {2}00:0[0-9a-f]\.0 {2}15ad:07b0 {2}0200 {2}Ethernet controller {5}no driver$/m);
    expect(vm.output).toContain('no-driver: started');
  });
});
