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

/** The driver the service imports for a "bb:dd.f vvvv:dddd cccc" row, if any. */
function driverFor(key: string): string | undefined {
  if (/^\S+ 1af4:10(00|41) /.test(key)) return 'virtio-net';
  if (/^\S+ 15ad:07b0 /.test(key)) return 'vmxnet3';
  return undefined;
}

const deviceSets = [
  { name: 'virtio-net (modern)', machine: 'pc', devices: ['virtio-net-pci,netdev=n0'] },
  { name: 'virtio-net (legacy)', machine: 'q35', devices: ['virtio-net-pci,netdev=n0,disable-modern=on'] },
  {
    name: 'virtio-net with virtio-rng and e1000 beside it',
    machine: 'q35',
    devices: ['virtio-rng-pci', 'virtio-net-pci,netdev=n0', 'e1000,netdev=n1'],
  },
  { name: 'vmxnet3', machine: 'pc', devices: ['vmxnet3,netdev=n0'] },
  { name: 'vmxnet3 and virtio-net side by side', machine: 'q35', devices: ['vmxnet3,netdev=n0', 'virtio-net-pci,netdev=n1'] },
  {
    name: 'vmxnet3 behind a PCI bridge, with e1000 beside it',
    machine: 'pc',
    devices: ['pci-bridge,id=bridge,chassis_nr=1', 'e1000,netdev=n0', 'vmxnet3,netdev=n1,bus=bridge,addr=5'],
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
  {
    // microvm's PCIe host bridge (pcie=on): configuration space through ECAM, BARs assigned by uOS.
    name: 'virtio-net and vmxnet3 on the PCIe host bridge',
    machine: 'microvm',
    devices: ['virtio-net-pci,netdev=n0', 'vmxnet3,netdev=n1'],
  },
] as const;

describe('the boot device table', () => {
  for (const set of deviceSets) {
    it(`matches QEMU's view of the bus: ${set.name} on ${set.machine}`, async () => {
      const netdevs = ['-netdev', 'user,id=n0', '-netdev', 'user,id=n1'];
      const vm = await boot(dir, {
        machine: set.machine,
        ...(set.machine === 'microvm' ? { config: { pcie: true } } : {}),
        qemuArgs: [...netdevs, ...set.devices.flatMap((d) => ['-device', d])],
      });
      await vm.waitFor('device-table: ready');
      const table = bootTable(vm.output);
      const qemu = qemuView(await vm.qmp<{ devices: QmpPciDevice[] }[]>('query-pci'));
      expect(table.map((r) => r.key).sort()).toEqual(qemu);
      // Every virtio-net and vmxnet3 has its driver, named eth0, eth1, ... in probe order; nothing else has one.
      const nics = table.filter((r) => driverFor(r.key));
      expect(nics.length).toBe(set.devices.filter((d) => /^(virtio-net-pci|vmxnet3),/.test(d)).length);
      nics.forEach((r, i) => expect(r.driver).toBe(`${driverFor(r.key)} (eth${i})`));
      for (const r of table.filter((row) => !nics.includes(row))) expect(r.driver).toBe('no driver');
      vm.write('quit\n');
      await vm.expectExit(ExitStatus.ok);
    });
  }
});
