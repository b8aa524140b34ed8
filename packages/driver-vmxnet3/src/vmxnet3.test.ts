import { UosError } from '@uos/errors';
import { PciDevice } from '@uos/hw';
import { FakeMachine, thrownBy } from '@uos/hw/test';
import { statman } from '@uos/statman';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Vmxnet3Error } from './errors.js';
import { Vmxnet3Model, type Vmxnet3ModelOptions } from './test/vmxnet3-model.js';
import { Vmxnet3, type Vmxnet3Options } from './vmxnet3.js';

let machine: FakeMachine;

beforeEach(() => {
  machine = new FakeMachine().install();
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

afterEach(() => {
  machine.uninstall();
  vi.restoreAllMocks();
});

// statman is process-wide: every NIC gets a name of its own.
let serial = 0;

function setUp(modelOptions: Vmxnet3ModelOptions = {}, options: Vmxnet3Options = {}): { model: Vmxnet3Model; nic: Vmxnet3 } {
  const model = new Vmxnet3Model(machine, modelOptions);
  return { model, nic: new Vmxnet3(new PciDevice(0, modelOptions.slot ?? 4, 0), `vx${serial++}`, options) };
}

function create(options: Vmxnet3Options = {}): Vmxnet3 {
  return new Vmxnet3(new PciDevice(0, 4, 0), `vx${serial++}`, options);
}

/** A frame to the broadcast address carrying `sequence` after the Ethernet header. */
function frame(sequence: number, length = 60): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]);
  new DataView(bytes.buffer).setUint32(14, sequence);
  return bytes;
}
const sequenceOf = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(14);
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

function listen(nic: Vmxnet3): number[] {
  const sequences: number[] = [];
  nic.onReceive((f) => sequences.push(sequenceOf(f)));
  return sequences;
}

function expectCode(action: () => unknown, code: string): UosError {
  const error = thrownBy(action);
  expect(UosError.isInstance(error), `expected a UosError, got ${String(error)}`).toBe(true);
  expect(Vmxnet3Error.isInstance(error)).toBe(true);
  expect((error as UosError).code).toBe(code);
  return error as UosError;
}

const RESET = 0xcafe0002;
const ACTIVATE = 0xcafe0000;

describe('Vmxnet3 bring-up', () => {
  it('resets the device, activates it with its rings, reads MAC and link, and unmasks its interrupts', () => {
    const { model, nic } = setUp();
    expect(model.commands[0]).toBe(RESET);
    expect(model.commands).toContain(ACTIVATE);
    expect(model.active).toBe(true);
    expect([nic.interruptMode, nic.linkUp, nic.linkSpeedMbps, nic.mtu, model.mtu]).toEqual(['msix', true, 1000, 1500, 1500]);
    expect(Array.from(nic.mac)).toEqual([0x00, 0x0c, 0x29, 0x12, 0x34, 0x56]);
    expect(model.receiveBuffersAvailable).toBe(512);
    expect(model.autoMask).toBe(true);
    // Interrupts start masked; the driver unmasks its three after activation, and no others.
    expect(model.interrupts.map((s) => s.masked)).toEqual([false, false, false, ...new Array(22).fill(true)]);
    // The device ignores BAR 0 until it is active: the driver never wrote it before.
    expect(model.ignoredWrites).toEqual([]);
  });

  it('registers its counters in statman, as <ifname>.nic.* and <ifname>.vmxnet3.*', () => {
    const { nic } = setUp();
    for (const counter of ['rx_packets', 'tx_busy', 'interrupts']) expect(statman.get(`${nic.name}.nic.${counter}`)).toBeDefined();
    for (const counter of ['rx_errors', 'events', 'queue_errors', 'resets', 'link_changes'])
      expect(statman.get(`${nic.name}.vmxnet3.${counter}`)).toBeDefined();
  });
});

const modes = [
  { mode: 'msix', model: {}, options: {} },
  { mode: 'msi', model: { msix: false }, options: {} },
  { mode: 'intx', model: { msix: false, msi: false }, options: {} },
  { mode: 'msi', model: {}, options: { interrupts: 'msi' } },
  { mode: 'intx', model: {}, options: { interrupts: 'intx' } },
] as const;

describe.each(modes)('Vmxnet3 with $mode interrupts (device $model, options $options)', ({ mode, model: modelOptions, options }) => {
  it('receives frames in order through many laps of the ring and of the completion ring', async () => {
    const { model, nic } = setUp(modelOptions, options);
    expect(nic.interruptMode).toBe(mode);
    const received = listen(nic);
    for (let sequence = 0; sequence < 3000; ) {
      for (let i = 0; i < 100; i++) expect(model.deliver(frame(sequence++))).toBe(true);
      await machine.settle();
    }
    expect(received).toEqual(range(3000));
    expect(model.receiveBuffersAvailable).toBe(512);
    expect([nic.stats.rxPackets.value, nic.stats.rxDropped.value, nic.deviceCounters().receive.outOfBuffers]).toEqual([3000, 0, 0]);
    expect(nic.stats.interrupts.value).toBeGreaterThan(0);
    // The device masked the interrupt each time it fired; the driver unmasked it after draining.
    expect(model.interrupts[0]!.masked).toBe(false);
  });

  it('transmits frames in order through many laps, one doorbell per batch, completions reclaimed', async () => {
    const { model, nic } = setUp(modelOptions, options);
    for (let sequence = 0; sequence < 2000; ) {
      for (let i = 0; i < 100; i++) expect(nic.transmit(frame(sequence++, 60 + (sequence % 1455)))).toEqual({ ok: true });
      await machine.settle();
    }
    expect(model.sent.map(sequenceOf)).toEqual(range(2000));
    expect(model.sent.map((f) => f.length)).toEqual(range(2000).map((i) => 60 + ((i + 1) % 1455)));
    expect(model.doorbells).toBe(20);
    expect([nic.stats.txPackets.value, nic.stats.txBusy.value, nic.stats.txErrors.value]).toEqual([2000, 0, 0]);
    expect(nic.deviceCounters().transmit.unicastPackets).toBe(2000);
  });

  it('reports link changes through the event interrupt', async () => {
    const { model, nic } = setUp(modelOptions, options);
    const changes: boolean[] = [];
    nic.onLinkChange((up) => changes.push(up));
    model.setLink(false);
    await machine.settle();
    expect([nic.linkUp, nic.linkSpeedMbps, changes]).toEqual([false, 0, [false]]);
    expect(nic.transmit(frame(1))).toEqual({ ok: false, error: 'link-down' });
    model.setLink(true);
    await machine.settle();
    expect([nic.linkUp, changes, nic.driverStats.linkChanges.value, nic.driverStats.events.value]).toEqual([true, [false, true], 2, 2]);
  });
});

describe('Vmxnet3 ring limits', () => {
  it('answers busy on a full transmit ring, then onWritable once the device completes', async () => {
    const { model, nic } = setUp();
    model.holdTransmits = true;
    for (let i = 0; i < 256; i++) expect(nic.transmit(frame(i)).ok).toBe(true);
    expect(nic.transmit(frame(256))).toEqual({ ok: false, error: 'busy' });
    await machine.settle();
    let writable = 0;
    nic.onWritable(() => writable++);
    expect(nic.transmit(frame(256))).toEqual({ ok: false, error: 'busy' });
    model.processTransmits();
    await machine.settle();
    expect(writable).toBe(1);
    model.holdTransmits = false;
    for (let i = 256; i < 300; i++) expect(nic.transmit(frame(i)).ok).toBe(true);
    await machine.settle();
    expect(model.sent.map(sequenceOf)).toEqual(range(300));
    expect(nic.stats.txBusy.value).toBe(2);
  });

  it('takes a full receive ring of frames at once; what finds no buffer is dropped by the device, not by the driver', async () => {
    const { model, nic } = setUp({}, { receiveRingSize: 64 });
    const received = listen(nic);
    for (let i = 0; i < 64; i++) expect(model.deliver(frame(i))).toBe(true);
    expect(model.deliver(frame(64))).toBe(false);
    await machine.settle();
    expect(received).toEqual(range(64));
    expect(model.receiveBuffersAvailable).toBe(64);
    expect(model.deliver(frame(65))).toBe(true);
    await machine.settle();
    expect(received).toEqual([...range(64), 65]);
    expect(nic.deviceCounters().receive.outOfBuffers).toBe(1);
  });

  it('refuses frames it cannot send, and never hands the device a zero length (16 KiB to the device)', () => {
    const { model, nic } = setUp({}, { mtu: 1500 });
    expect(nic.transmit(new Uint8Array(0))).toEqual({ ok: false, error: 'too-small' });
    expect(nic.transmit(new Uint8Array(13))).toEqual({ ok: false, error: 'too-small' });
    expect(nic.transmit(new Uint8Array(1515))).toEqual({ ok: false, error: 'too-large' });
    expect(nic.transmit(new Uint8Array(14)).ok).toBe(true);
    expect(nic.transmit(new Uint8Array(1514)).ok).toBe(true);
    model.processTransmits();
    expect(model.sent.map((f) => f.length)).toEqual([14, 1514]);
  });

  it('drops and counts a frame larger than its buffers (the device sets the error bit)', async () => {
    const { model, nic } = setUp();
    const received = listen(nic);
    expect(model.deliver(frame(1, 4000))).toBe(false);
    model.deliver(frame(2));
    await machine.settle();
    expect(received).toEqual([2]);
    expect([nic.stats.rxDropped.value, nic.driverStats.rxErrors.value]).toEqual([1, 1]);
  });
});

describe('Vmxnet3 and a device that refuses or reports errors', () => {
  it('says which device refused activation, and leaves its interrupts as it found them', () => {
    const model = new Vmxnet3Model(machine);
    model.refuseActivation = true;
    const error = expectCode(() => create(), 'vmxnet3-activation');
    expect(error.message).toMatch(/^00:04\.0 15ad:07b0 refused activation \(ACTIVATE_DEV answered 0x1\) with MTU 1500/);
    expect(model.signals.mode).toBe('intx'); // MSI-X turned off again
    expect(model.commands[model.commands.length - 1]).toBe(RESET);
    // Its vectors went back: a new NIC gets the same ones.
    model.refuseActivation = false;
    const nic = create();
    expect(nic.interruptMode).toBe('msix');
    expect(machine.interrupts.delivered).toEqual([]);
  });

  it('checks options before it touches the device', () => {
    const model = new Vmxnet3Model(machine);
    expectCode(() => create({ mtu: 9001 }), 'vmxnet3-configuration');
    expectCode(() => create({ mtu: 67 }), 'vmxnet3-configuration');
    expectCode(() => create({ receiveRingSize: 100 }), 'vmxnet3-configuration');
    expectCode(() => create({ transmitRingSize: 8192 }), 'vmxnet3-configuration');
    expect(model.commands).toEqual([]);
  });

  it('activates with a jumbo MTU within what the device takes', async () => {
    const { model, nic } = setUp({}, { mtu: 9000 });
    expect(model.mtu).toBe(9000);
    const received: number[] = [];
    nic.onReceive((f) => received.push(f.length));
    model.deliver(frame(1, 9014));
    await machine.settle();
    expect(received).toEqual([9014]);
  });

  it('names what is missing: revision 1, memory BARs, the interrupts asked for', () => {
    const model = new Vmxnet3Model(machine, { msix: false, msi: false });
    model.revisions = 2;
    expect(expectCode(() => create(), 'vmxnet3-version').message).toContain('supports neither revision 1 nor UPT version 1');
    model.revisions = 1;
    expectCode(() => create({ interrupts: 'msix' }), 'vmxnet3-interrupts');
    expectCode(() => create({ interrupts: 'msi' }), 'vmxnet3-interrupts');
    model.fn.setRaw(0x3d, 1, 0); // no INTx pin either
    const error = expectCode(() => create(), 'vmxnet3-interrupts');
    expect(error.message).toBe('00:04.0 15ad:07b0: no interrupts: 00:04.0 15ad:07b0 has no legacy interrupt pin');
    expect(UosError.isInstance(error.cause)).toBe(true);
    machine.platform.addFunction({ device: 6 }, { vendorId: 0x15ad, deviceId: 0x07b0 });
    expect(thrownBy(() => new Vmxnet3(new PciDevice(0, 6, 0), `vx${serial++}`))).toMatchObject({ code: 'vmxnet3-bar' });
  });

  it('resets and re-activates the device when it stops a queue, and carries on', async () => {
    const { model, nic } = setUp();
    const received = listen(nic);
    model.holdTransmits = true;
    for (let i = 0; i < 3; i++) nic.transmit(frame(i));
    await machine.settle();
    model.queueError('transmit', 0x80000001);
    await machine.settle();
    expect(console.log).toHaveBeenCalledWith(
      `vmxnet3: ${nic.name}: the transmit queue stopped (error 0x80000001: a descriptor reused before its completion); resetting the device`,
    );
    expect([nic.driverStats.queueErrors.value, nic.driverStats.resets.value, nic.stats.txErrors.value]).toEqual([1, 1, 3]);
    expect(model.active).toBe(true);
    model.holdTransmits = false;
    nic.transmit(frame(10));
    model.deliver(frame(11));
    await machine.settle();
    expect(model.sent.map(sequenceOf)).toEqual([10]);
    expect(received).toEqual([11]);
  });

  it('resets the device when a completion names a descriptor it does not hold', async () => {
    const { model, nic } = setUp();
    const received = listen(nic);
    model.pushCompletion('transmit', [7, 0, 0, 0]);
    await machine.settle();
    expect(nic.driverStats.resets.value).toBe(1);
    model.pushCompletion('receive', [5 | (3 << 14), 0, 60, 3 << 24]);
    await machine.settle();
    expect(nic.driverStats.resets.value).toBe(2);
    model.deliver(frame(3));
    await machine.settle();
    expect(received).toEqual([3]);
  });

  it('stops the NIC after too many resets in a minute, and says so', async () => {
    const { model, nic } = setUp();
    const changes: boolean[] = [];
    nic.onLinkChange((up) => changes.push(up));
    for (let i = 0; i < 6; i++) {
      model.queueError('receive', 0x80000004);
      await machine.settle();
    }
    expect(nic.driverStats.resets.value).toBe(5);
    expect([nic.isStopped, nic.linkUp, changes]).toEqual([true, false, [false]]);
    expect(console.log).toHaveBeenLastCalledWith(expect.stringMatching(/6 resets within a minute; the NIC is stopped$/));
    expect(nic.transmit(frame(1))).toEqual({ ok: false, error: 'stopped' });
    expect(model.active).toBe(false);
    // A minute later the count starts again (a new NIC on the device works).
    machine.interrupts.now += 60_000;
    expect(create().linkUp).toBe(true);
  });
});

describe('Vmxnet3 reset', () => {
  it('resets a device an earlier driver left active, so none of its ring state leaks into the new one', async () => {
    const model = new Vmxnet3Model(machine);
    const first = create();
    for (let i = 0; i < 5; i++) first.transmit(frame(i));
    model.deliver(frame(100));
    await machine.settle();
    const commands = model.commands.length;
    const second = create();
    expect(model.commands[commands]).toBe(RESET);
    const received = listen(second);
    expect(model.receiveBuffersAvailable).toBe(512);
    model.deliver(frame(101));
    second.transmit(frame(5));
    await machine.settle();
    expect(received).toEqual([101]);
    expect(model.sent.map(sequenceOf)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('the driver entry', () => {
  it('registers vmxnet3 for 15ad:07b0 and binds it with the options configureVmxnet3 set', async () => {
    const registryKey = Symbol.for('uos.hw.registry');
    const binderKey = Symbol.for('uos.kernel.device-binder');
    const holder = globalThis as unknown as Record<symbol, unknown>;
    const saved = [holder[registryKey], holder[binderKey]];
    delete holder[registryKey];
    try {
      new Vmxnet3Model(machine);
      const entry = await import('./index.js');
      entry.configureVmxnet3({ interrupts: 'intx', receiveRingSize: 128 });
      const bind = holder[binderKey] as (functions: unknown[]) => Map<unknown, string>;
      const functions = machine.platform.functions();
      expect([...bind(functions).values()]).toEqual(['vmxnet3 (eth0)']);
      const { nic } = await import('@uos/hw');
      const eth0 = nic('eth0') as Vmxnet3;
      expect([eth0.driver, eth0.interruptMode]).toEqual(['vmxnet3', 'intx']);
    } finally {
      holder[registryKey] = saved[0];
      holder[binderKey] = saved[1];
    }
  });
});
