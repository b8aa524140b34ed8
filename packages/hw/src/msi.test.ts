import { irq } from '@uos/kernel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MsiCapability } from './msi.js';
import { PciDevice } from './pci.js';
import { FakeDeviceInterrupts, FakeMachine } from './test/index.js';

let machine: FakeMachine;

beforeEach(() => {
  machine = new FakeMachine().install();
});

afterEach(() => {
  machine.uninstall();
});

describe('MsiCapability', () => {
  it('returns undefined for a device without MSI', () => {
    machine.platform.addFunction({ device: 3 }, { vendorId: 0x15ad, deviceId: 0x07b0 });
    expect(MsiCapability.open(new PciDevice(0, 3, 0))).toBeUndefined();
  });

  it.each([true, false])('routes one message to a vector on this CPU (64-bit address: %s)', async (is64) => {
    machine.platform.localApicId = 2;
    machine.interrupts.apicId = 2;
    const f = machine.platform.addFunction({ device: 3 }, { vendorId: 0x15ad, deviceId: 0x07b0 });
    const at = f.addMsiCapability({ vectors: 4, is64 });
    f.setRaw(at + 2, 2, f.read(at + 2, 2) | (2 << 4)); // a firmware left four messages enabled
    const signals = new FakeDeviceInterrupts(machine.platform, machine.interrupts, f);
    const msi = MsiCapability.open(new PciDevice(0, 3, 0))!;
    expect(msi.is64).toBe(is64);
    expect(msi.enabled).toBe(false);
    const vector = msi.enableVector();
    expect(msi.enabled).toBe(true);
    expect((f.read(at + 2, 2) >> 4) & 7).toBe(0); // one message
    expect(f.read(at + 4, 4)).toBe(0xfee02000);
    expect(f.read(at + (is64 ? 12 : 8), 2)).toBe(vector);
    let calls = 0;
    irq.subscribe(vector, () => calls++);
    signals.msi();
    await machine.settle();
    expect([calls, machine.interrupts.strayMessages]).toEqual([1, []]);
    msi.disable();
    expect(signals.mode).toBe('intx');
  });
});
