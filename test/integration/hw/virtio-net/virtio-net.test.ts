import { ExitStatus } from '@uos/vmrunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';
import { type FrameLink, openFrameLink } from '../frame-links.js';

const dir = here(import.meta.url);
const FRAMES = 10_000;
const FROM_GUEST = 0x88b5;
const TO_GUEST = 0x88b6;

// microvm (PCIe host bridge, ECAM, BARs and interrupt lines assigned by uOS) has no I/O window, so only
// the modern transport there.
const transports = [
  { transport: 'modern', interrupts: 'msix', properties: undefined, machine: 'pc' },
  { transport: 'legacy', interrupts: 'msix', properties: 'disable-modern=on', machine: 'pc' },
  { transport: 'modern', interrupts: 'intx', properties: 'vectors=0', machine: 'pc' },
  { transport: 'modern', interrupts: 'msix', properties: undefined, machine: 'microvm' },
  { transport: 'modern', interrupts: 'intx', properties: 'vectors=0', machine: 'microvm' },
] as const;

describe('virtio-net moves raw frames both ways without loss', () => {
  let link: FrameLink;
  beforeAll(async () => {
    link = await openFrameLink('virtio');
    if (link.kind === 'dgram')
      console.warn(`virtio-net test: no tap device (${link.fallbackReason}); using QEMU's dgram netdev over loopback instead`);
  });
  afterAll(() => link?.close());

  for (const { transport, interrupts, properties, machine } of transports) {
    it(`${FRAMES} frames each way over the ${transport} transport with ${interrupts} on ${machine}`, async () => {
      const vm = await boot(dir, { ...link.vmOptions('virtio-net-pci', properties), machine });
      const ready = await vm.waitFor(/virtio: ready /);
      expect(ready).toMatch(new RegExp(`virtio: ready eth0 ([0-9a-f]{2}:){5}[0-9a-f]{2} ${transport} ${interrupts} link true`));
      const mac = / ((?:[0-9a-f]{2}:){5}[0-9a-f]{2}) /.exec(ready)![1]!;

      const fromGuest = await link.receiveFromGuest(FRAMES, FROM_GUEST, 60_000);
      vm.write(`send ${FRAMES} ${FROM_GUEST.toString(16)} ff:ff:ff:ff:ff:ff\n`);
      await vm.waitFor(`virtio: sent ${FRAMES}`, 60_000);
      expect(await fromGuest()).toMatchObject({ received: FRAMES, missing: 0, duplicates: 0 });

      vm.write(`expect ${FRAMES} ${TO_GUEST.toString(16)}\n`);
      await vm.waitFor(`virtio: expecting ${FRAMES}`);
      await link.sendToGuest(vm, FRAMES, TO_GUEST, mac);
      await vm.waitFor(new RegExp(`virtio: received ${FRAMES} in \\d+ ms, missing 0, duplicates 0`), 60_000);

      vm.write('stats\n');
      const stats = JSON.parse((await vm.waitFor(/virtio: stats /)).slice('virtio: stats '.length)) as Record<string, number>;
      expect(stats.tx).toBe(FRAMES);
      expect(stats.rx).toBeGreaterThanOrEqual(FRAMES);
      vm.write('quit\n');
      await vm.expectExit(ExitStatus.ok);
    });
  }
});
