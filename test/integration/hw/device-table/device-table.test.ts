import { ExitStatus } from '@uos/vmrunner';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

const dir = here(import.meta.url);

interface QmpPciDevice {
  bus: number;
  slot: number;
  function: number;
  class_info: { class: number };
  id: { vendor: number; device: number };
  pci_bridge?: { devices?: QmpPciDevice[] };
}

const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0');

/** QEMU's view, as "bb:dd.f vvvv:dddd cccc" lines. */
function qemuView(buses: { devices: QmpPciDevice[] }[]): string[] {
  const lines: string[] = [];
  const walk = (devices: QmpPciDevice[]) => {
    for (const d of devices) {
      lines.push(
        `${hex(d.bus, 2)}:${hex(d.slot, 2)}.${d.function} ${hex(d.id.vendor, 4)}:${hex(d.id.device, 4)} ${hex(d.class_info.class, 4)}`,
      );
      if (d.pci_bridge?.devices) walk(d.pci_bridge.devices);
    }
  };
  for (const bus of buses) walk(bus.devices);
  return lines.sort();
}

/** The boot table's rows: address, ids, class code, and the driver column. */
function bootTable(output: string): { key: string; driver: string }[] {
  return [
    ...output.matchAll(/^ {2}([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) {2}([0-9a-f]{4}:[0-9a-f]{4}) {2}([0-9a-f]{4}) {2}.{22} {2}(.+)$/gm),
  ].map((m) => ({ key: `${m[1]} ${m[2]} ${m[3]}`, driver: m[4]! }));
}

const deviceSets = [
  { name: 'virtio-net (modern)', machine: 'pc', devices: ['virtio-net-pci,netdev=n0'] },
  { name: 'virtio-net (legacy)', machine: 'q35', devices: ['virtio-net-pci,netdev=n0,disable-modern=on'] },
  {
    name: 'virtio-net with virtio-rng and e1000 beside it',
    machine: 'q35',
    devices: ['virtio-rng-pci', 'virtio-net-pci,netdev=n0', 'e1000,netdev=n1'],
  },
  {
    name: 'two virtio-net behind a PCI bridge',
    machine: 'pc',
    devices: [
      'pci-bridge,id=bridge,chassis_nr=1',
      'virtio-net-pci,netdev=n0,bus=bridge,addr=3',
      'virtio-net-pci,netdev=n1,bus=bridge,addr=4',
    ],
  },
] as const;

describe('the boot device table', () => {
  for (const set of deviceSets) {
    it(`matches QEMU's view of the bus: ${set.name} on ${set.machine}`, async () => {
      const netdevs = ['-netdev', 'user,id=n0', '-netdev', 'user,id=n1'];
      const vm = await boot(dir, { machine: set.machine, qemuArgs: [...netdevs, ...set.devices.flatMap((d) => ['-device', d])] });
      await vm.waitFor('device-table: ready');
      const table = bootTable(vm.output);
      const qemu = qemuView(await vm.qmp<{ devices: QmpPciDevice[] }[]>('query-pci'));
      expect(table.map((r) => r.key).sort()).toEqual(qemu);
      // Every virtio-net has the driver, named eth0, eth1, ... in probe order; nothing else has one.
      const virtio = table.filter((r) => /^\S+ 1af4:10(00|41) /.test(r.key));
      expect(virtio.length).toBeGreaterThan(0);
      virtio.forEach((r, i) => expect(r.driver).toBe(`virtio-net (eth${i})`));
      for (const r of table.filter((row) => !virtio.includes(row))) expect(r.driver).toBe('no driver');
      vm.write('quit\n');
      await vm.expectExit(ExitStatus.ok);
    });
  }
});
