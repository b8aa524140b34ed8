import { ExitStatus } from '@uos/vmrunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, build, here } from '../../harness.js';
import { type FrameLink, openFrameLink } from '../frame-links.js';

const dir = here(import.meta.url);
const FRAMES = 10_000;
const FROM_GUEST = 0x88b5;
const TO_GUEST = 0x88b6;
/** Frames in flight towards the guest: under the 512 receive buffers the driver keeps posted (and what QEMU's dgram socket holds). */
const WINDOW = 200;

const modes = ['msix', 'intx', 'msi'] as const;

describe('an image with the vmxnet3 driver', () => {
  it('carries vmxnet3 and none of virtio-net, which it does not import', async () => {
    const result = await build(dir);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes('driver-vmxnet3/src/vmxnet3.ts'))).toBe(true);
    expect(inputs.some((i) => i.includes('driver-virtionet'))).toBe(false);
    expect(inputs.some((i) => i.includes('/src/test/'))).toBe(false); // no device model, no fake platform
    expect(result.packages.map((p) => p.name)).toContain('@uos/driver-vmxnet3');
  });
});

describe('vmxnet3 moves raw frames both ways without loss', () => {
  let link: FrameLink;
  beforeAll(async () => {
    link = await openFrameLink('vmxnet3');
    if (link.kind === 'dgram')
      console.warn(`vmxnet3 test: no tap device (${link.fallbackReason}); using QEMU's dgram netdev over loopback instead`);
  });
  afterAll(() => link?.close());

  for (const mode of modes) {
    it(`${FRAMES} frames each way with ${mode} interrupts`, async () => {
      const vm = await boot(dir, { ...link.vmOptions('vmxnet3'), args: [`interrupts=${mode}`] });
      const ready = await vm.waitFor(/vmxnet3: ready /);
      expect(ready).toMatch(new RegExp(`vmxnet3: ready eth0 ([0-9a-f]{2}:){5}[0-9a-f]{2} ${mode} speed \\d+ link true`));
      expect(vm.output).toMatch(/^ {2}00:0[0-9a-f]\.0 {2}15ad:07b0 {2}0200 {2}Ethernet controller {5}vmxnet3 \(eth0\)$/m);
      const mac = / ((?:[0-9a-f]{2}:){5}[0-9a-f]{2}) /.exec(ready)![1]!;

      const fromGuest = await link.receiveFromGuest(FRAMES, FROM_GUEST, 60_000);
      vm.write(`send ${FRAMES} ${FROM_GUEST.toString(16)} ff:ff:ff:ff:ff:ff\n`);
      await vm.waitFor(`vmxnet3: sent ${FRAMES}`, 60_000);
      expect(await fromGuest()).toMatchObject({ received: FRAMES, missing: 0, duplicates: 0 });

      vm.write(`expect ${FRAMES} ${TO_GUEST.toString(16)}\n`);
      await vm.waitFor(`vmxnet3: expecting ${FRAMES}`);
      // QEMU's vmxnet3 drops a frame that finds no receive buffer (virtio leaves it queued in the tap), so
      // the sender keeps fewer frames in flight than the driver's ring holds: then any loss is the driver's.
      await link.sendToGuest(vm, FRAMES, TO_GUEST, mac, WINDOW);
      const done = await vm.waitFor(/vmxnet3: received \d+ in \d+ ms|vmxnet3: received \d+ so far/, 60_000).catch(async (error: Error) => {
        vm.write('report\nstats\n');
        await new Promise((r) => setTimeout(r, 1000));
        throw new Error(`${error.message}\n${vm.output.split('\n').slice(-5).join('\n')}`);
      });
      expect(done).toMatch(new RegExp(`vmxnet3: received ${FRAMES} in \\d+ ms, missing 0, duplicates 0`));

      vm.write('stats\n');
      const stats = JSON.parse((await vm.waitFor(/vmxnet3: stats /)).slice('vmxnet3: stats '.length)) as Record<string, number>;
      expect(stats.tx).toBe(FRAMES);
      expect(stats.rx).toBeGreaterThanOrEqual(FRAMES);
      // No frame found the receive ring empty, and the device saw no errors.
      expect(stats).toMatchObject({ outOfBuffers: 0, deviceRxErrors: 0, deviceTxErrors: 0, resets: 0 });
      vm.write('quit\n');
      await vm.expectExit(ExitStatus.ok);
    });
  }
});
