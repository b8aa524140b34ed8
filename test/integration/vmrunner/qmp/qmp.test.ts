import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boot, here } from '../../harness.js';

interface PciDevice {
  bus: number;
  slot: number;
  function: number;
  class_info: { class: number; desc?: string };
  id: { vendor: number; device: number };
}

describe('QMP', () => {
  it('queries a running VM: status, PCI devices, and human monitor commands', async () => {
    const vm = await boot(here(import.meta.url));
    await vm.waitFor('qmp: ready');
    expect(vm.qmpSocket).toBeDefined();
    expect(vm.command.join(' ')).toContain(`-qmp unix:${vm.qmpSocket},server=on,wait=off`);

    const status = await vm.qmp<{ status: string; running: boolean }>('query-status');
    expect(status).toMatchObject({ status: 'running', running: true });

    const buses = await vm.qmp<{ bus: number; devices: PciDevice[] }[]>('query-pci');
    const bus0 = buses.find((b) => b.bus === 0);
    const hostBridge = bus0?.devices.find((d) => d.id.vendor === 0x8086 && d.id.device === 0x1237);
    expect(hostBridge).toMatchObject({ bus: 0, slot: 0, function: 0, class_info: { class: 0x0600 } });

    const info = await vm.monitor('info pci');
    expect(info).toContain('Host bridge: PCI device 8086:1237');
    expect(info).not.toContain('\r');

    await expect(vm.qmp('no-such-command')).rejects.toMatchObject({ code: 'qmp-error', errorClass: 'CommandNotFound' });
    // HMP reports its errors as output, not as QMP errors.
    await expect(vm.monitor('info nonsense')).resolves.toBe("unknown command: 'info nonsense'\n");

    const directory = dirname(vm.qmpSocket!);
    expect(existsSync(vm.qmpSocket!)).toBe(true);
    await vm.kill();
    expect((await vm.waitForExit()).killed).toBe(true);
    expect(existsSync(directory)).toBe(false);
    await expect(vm.qmp('query-status')).rejects.toMatchObject({ code: 'vm-ended' });
  });

  it('sees events the guest causes: stop and cont through QMP', async () => {
    const vm = await boot(here(import.meta.url));
    await vm.waitFor('qmp: ready');
    await vm.qmp('stop');
    expect(await vm.qmp('query-status')).toMatchObject({ status: 'paused', running: false });
    await vm.qmp('cont');
    expect(await vm.qmp('query-status')).toMatchObject({ status: 'running' });
    await expect.poll(() => vm.qmpEvents.map((e) => e.event)).toEqual(['STOP', 'RESUME']);
  });

  it('has no QMP socket with qmp: false', async () => {
    const vm = await boot(here(import.meta.url), { qmp: false });
    expect(vm.qmpSocket).toBeUndefined();
    expect(vm.command).not.toContain('-qmp');
    await expect(vm.qmp('query-status')).rejects.toMatchObject({ code: 'qmp-disabled' });
    await vm.waitFor('qmp: ready');
  });

  it('removes the socket directory when the VM ends by itself', async () => {
    const vm = await boot(here(import.meta.url));
    await vm.waitFor('qmp: ready');
    const directory = dirname(vm.qmpSocket!);
    // QEMU sends its SHUTDOWN event, then the answer, then closes; tolerate losing the answer.
    await vm.qmp('quit').catch((error: { code?: string }) => {
      if (error.code !== 'qmp-closed') throw error;
    });
    const exit = await vm.waitForExit(10_000);
    expect(exit.killed).toBe(false);
    expect(existsSync(directory)).toBe(false);
  });
});
