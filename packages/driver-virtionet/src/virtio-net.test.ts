import { UosError } from '@uos/errors';
import { type NicStat, PciDevice } from '@uos/hw';
import { FakeMachine, thrownBy } from '@uos/hw/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtioNetError } from './errors.js';
import { VirtioNetModel, type VirtioNetModelOptions } from './test/virtio-net-model.js';
import { VirtioNet, type VirtioNetOptions } from './virtio-net.js';

let machine: FakeMachine;

beforeEach(() => {
  machine = new FakeMachine().install();
});

afterEach(() => {
  machine.uninstall();
});

// statman is process-wide: every NIC gets a name of its own.
let serial = 0;

function setUp(
  modelOptions: VirtioNetModelOptions = {},
  nicOptions: VirtioNetOptions = {},
): { model: VirtioNetModel; nic: VirtioNet; name: string } {
  const model = new VirtioNetModel(machine, modelOptions);
  const name = `vn${serial++}`;
  return { model, nic: new VirtioNet(new PciDevice(0, modelOptions.slot ?? 3, 0), name, nicOptions), name };
}

/** A NIC's counter by its statman name (`<ifname>.nic.<counter>`). */
const stat = (nic: VirtioNet, counter: keyof typeof NicStat): number => nic.stats[counter].value;

/** A 60-byte frame carrying `sequence` after the Ethernet header. */
function frame(sequence: number, length = 60): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]);
  new DataView(bytes.buffer).setUint32(14, sequence);
  return bytes;
}
const sequenceOf = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(14);

function listen(nic: VirtioNet): number[] {
  const sequences: number[] = [];
  nic.onReceive((f) => sequences.push(sequenceOf(f)));
  return sequences;
}

function expectCode(action: () => unknown, code: string): UosError {
  const error = thrownBy(action);
  expect(UosError.isInstance(error), `expected a UosError, got ${String(error)}`).toBe(true);
  expect((error as UosError).code).toBe(code);
  return error as UosError;
}

const transports = [
  { name: 'modern transport with MSI-X', options: {}, transport: 'modern', interrupts: 'msix' },
  { name: 'legacy transport with MSI-X', options: { legacyOnly: true }, transport: 'legacy', interrupts: 'msix' },
  { name: 'modern transport with INTx', options: { msixEntries: 0 }, transport: 'modern', interrupts: 'intx' },
  { name: 'legacy transport with INTx', options: { legacyOnly: true, msixEntries: 0 }, transport: 'legacy', interrupts: 'intx' },
] as const;

describe.each(transports)('VirtioNet over the $name', ({ options, transport, interrupts }) => {
  it('resets the device, negotiates, and offers every receive buffer', () => {
    const { model, nic } = setUp(options);
    expect(model.statusWrites[0]).toBe(0);
    expect(model.status & 4).toBe(4); // DRIVER_OK
    expect([nic.transport, nic.interruptMode, nic.linkUp]).toEqual([transport, interrupts, true]);
    expect(Array.from(nic.mac)).toEqual([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    expect(model.receiveBuffersAvailable).toBe(256);
  });

  it('receives frames through many turns of the ring, in order, re-offering every buffer', async () => {
    const { model, nic } = setUp(options);
    const received = listen(nic);
    for (let sequence = 0; sequence < 1000; ) {
      for (let i = 0; i < 100; i++) expect(model.deliver(frame(sequence++))).toBe(true);
      await machine.settle();
    }
    expect(received).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(model.receiveBuffersAvailable).toBe(256);
    expect([stat(nic, 'rxPackets'), stat(nic, 'rxDropped')]).toEqual([1000, 0]);
    expect(stat(nic, 'interrupts')).toBeGreaterThan(0);
  });

  it('sends what receivers answer in the same pass, one notification per batch of received frames', async () => {
    const { model, nic } = setUp(options);
    nic.onReceive((f) => {
      expect(nic.transmit(frame(sequenceOf(f) + 1000)).ok).toBe(true);
    });
    for (let batch = 0; batch < 4; batch++) {
      for (let i = 0; i < 5; i++) model.deliver(frame(batch * 5 + i));
      await machine.settle();
    }
    expect(model.sent.map(sequenceOf)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1000));
    expect(model.notifications[1]).toBe(4);
    expect(model.receiveBuffersAvailable).toBe(256);
    // A send outside the receive pass is still told to the device (at the end of the JS turn).
    nic.transmit(frame(5000));
    await machine.settle();
    expect(sequenceOf(model.sent[model.sent.length - 1]!)).toBe(5000);
    expect([stat(nic, 'rxPackets'), stat(nic, 'txPackets')]).toEqual([20, 21]);
  });

  it('still tells the device about answers sent before a receiver threw', async () => {
    const { model, nic } = setUp(options);
    nic.onReceive((f) => {
      nic.transmit(frame(sequenceOf(f) + 1000));
      throw new Error('receiver failed');
    });
    model.deliver(frame(1));
    await machine.settle().catch(() => {});
    expect(model.sent.map(sequenceOf)).toEqual([1001]);
    // The next pass sends and tells as before.
    nic.transmit(frame(7));
    await machine.settle();
    expect(model.sent.map(sequenceOf)).toEqual([1001, 7]);
  });

  it('transmits frames through many turns of the ring with one notification per batch', async () => {
    const { model, nic } = setUp(options);
    for (let sequence = 0; sequence < 1000; ) {
      for (let i = 0; i < 100; i++) expect(nic.transmit(frame(sequence++))).toEqual({ ok: true });
      await machine.settle();
    }
    expect(model.sent.map(sequenceOf)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(model.sent.every((f) => f.length === 60)).toBe(true);
    expect(model.sentHeaders.every((h) => h.every((b) => b === 0))).toBe(true);
    expect(model.notifications[1]).toBe(10);
    expect([stat(nic, 'txPackets'), stat(nic, 'txBytes'), stat(nic, 'txBusy')]).toEqual([1000, 60_000, 0]);
  });
});

describe('VirtioNet ring limits', () => {
  it('keeps receiving across the wrap of the 16-bit ring indices', async () => {
    const { model, nic } = setUp();
    let count = 0;
    let inOrder = true;
    nic.onReceive((f) => {
      if (sequenceOf(f) !== count++) inOrder = false;
    });
    for (let sequence = 0; sequence < 66_000; ) {
      for (let i = 0; i < 250; i++) model.deliver(frame(sequence++));
      await machine.settle();
    }
    expect([count, inOrder, model.receiveBuffersAvailable]).toEqual([66_000, true, 256]);
  });

  it('answers busy on a full transmit ring, then onWritable once the device completes', async () => {
    const { model, nic } = setUp();
    model.holdTransmits = true;
    for (let i = 0; i < 256; i++) expect(nic.transmit(frame(i)).ok).toBe(true);
    expect(nic.transmit(frame(256))).toEqual({ ok: false, error: 'busy' });
    expect(nic.transmit(frame(256))).toEqual({ ok: false, error: 'busy' });
    await machine.settle();
    expect(model.heldCount).toBe(256);
    let writable = 0;
    nic.onWritable(() => writable++);
    model.completeTransmits(10);
    await machine.settle();
    expect(writable).toBe(1);
    for (let i = 0; i < 10; i++) expect(nic.transmit(frame(256 + i)).ok).toBe(true);
    expect(nic.transmit(frame(266))).toEqual({ ok: false, error: 'busy' });
    model.holdTransmits = false;
    model.completeTransmits();
    await machine.settle();
    expect(model.sent.map(sequenceOf)).toEqual(Array.from({ length: 266 }, (_, i) => i));
    expect(stat(nic, 'txBusy')).toBe(3);
  });

  it('keeps frames the ring cannot take in the device until buffers come back: none lost', async () => {
    const { model, nic } = setUp();
    const received = listen(nic);
    for (let i = 0; i < 256; i++) expect(model.deliver(frame(i))).toBe(true);
    expect(model.deliver(frame(256))).toBe(false);
    await machine.settle();
    expect(model.receiveBuffersAvailable).toBe(256);
    expect(model.deliver(frame(256))).toBe(true);
    await machine.settle();
    expect(received).toEqual(Array.from({ length: 257 }, (_, i) => i));
  });

  it('refuses frames too small or too large for one buffer, and any frame while the link is down', async () => {
    const { model, nic } = setUp();
    expect(nic.transmit(new Uint8Array(13))).toEqual({ ok: false, error: 'too-small' });
    expect(nic.transmit(new Uint8Array(1515))).toEqual({ ok: false, error: 'too-large' });
    expect(nic.transmit(new Uint8Array(1514)).ok).toBe(true);
    const changes: boolean[] = [];
    nic.onLinkChange((up) => changes.push(up));
    model.setLink(false);
    await machine.settle();
    expect([nic.linkUp, changes]).toEqual([false, [false]]);
    expect(nic.transmit(frame(1))).toEqual({ ok: false, error: 'link-down' });
    model.setLink(true);
    await machine.settle();
    expect(changes).toEqual([false, true]);
  });
});

describe('VirtioNet and a device that reports errors', () => {
  it('marks the device failed when it refuses the features', () => {
    const model = new VirtioNetModel(machine);
    model.refuseFeatures = true;
    const error = expectCode(() => new VirtioNet(new PciDevice(0, 3, 0), `vn${serial++}`), 'virtio-features');
    expect(VirtioNetError.isInstance(error)).toBe(true);
    expect(error.message).toContain('refused the features');
    expect(model.status & 128).toBe(128);
  });

  it('refuses a modern device without VERSION_1', () => {
    const model = new VirtioNetModel(machine, { features: 1n << 5n });
    expectCode(() => new VirtioNet(new PciDevice(0, 3, 0), `vn${serial++}`), 'virtio-features');
    expect(model.status & 128).toBe(128);
  });

  it('falls back to INTx when the device takes no MSI-X vector at all', async () => {
    const model = new VirtioNetModel(machine);
    model.refuseVectors = 'all';
    const nic = new VirtioNet(new PciDevice(0, 3, 0), `vn${serial++}`);
    expect(nic.interruptMode).toBe('intx');
    const received = listen(nic);
    model.deliver(frame(7));
    await machine.settle();
    expect(received).toEqual([7]);
  });

  it('gives up when the device takes the configuration vector but not the queue vectors', () => {
    const model = new VirtioNetModel(machine);
    model.refuseVectors = 'queues';
    expectCode(() => new VirtioNet(new PciDevice(0, 3, 0), `vn${serial++}`), 'virtio-msix');
    expect(model.status & 128).toBe(128);
  });

  it('names a device with neither transport', () => {
    machine.platform.addFunction({ device: 5 }, { vendorId: 0x1af4, deviceId: 0x1000 });
    expectCode(() => new VirtioNet(new PciDevice(0, 5, 0), `vn${serial++}`), 'virtio-no-transport');
  });

  it('drops and counts a used length larger than the buffer, and keeps the buffer in the ring', async () => {
    const { model, nic } = setUp();
    const received = listen(nic);
    model.pushBogusUsed(0, 0, 1_000_000);
    await machine.settle();
    expect(received).toEqual([]);
    expect(stat(nic, 'rxDropped')).toBe(1);
    model.deliver(frame(1));
    await machine.settle();
    expect(received).toEqual([1]);
  });

  it('drops and counts used entries naming descriptors the device does not hold, without crashing', async () => {
    const { model, nic } = setUp();
    const received = listen(nic);
    model.pushBogusUsed(0, 4096, 60); // no such descriptor
    model.pushBogusUsed(1, 300, 0);
    model.pushBogusUsed(1, 5, 0); // a transmit slot the driver never used
    await machine.settle();
    expect(stat(nic, 'rxDropped')).toBe(1);
    expect(stat(nic, 'txErrors')).toBe(2);
    for (let i = 0; i < 300; i++) {
      expect(nic.transmit(frame(i)).ok).toBe(true);
      if (i % 50 === 49) await machine.settle();
    }
    await machine.settle();
    expect(model.sent.map(sequenceOf)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    model.deliver(frame(9));
    await machine.settle();
    expect(received).toEqual([9]);
  });
});

describe('VirtioNet reset', () => {
  it('resets a device an earlier driver left running, so none of its state leaks into the new rings', async () => {
    const model = new VirtioNetModel(machine);
    const first = new VirtioNet(new PciDevice(0, 3, 0), `vn${serial++}`);
    for (let i = 0; i < 5; i++) first.transmit(frame(i));
    await machine.settle();
    model.deliver(frame(100));
    const writes = model.statusWrites.length;
    const second = new VirtioNet(new PciDevice(0, 3, 0), `vn${serial++}`);
    expect(model.statusWrites[writes]).toBe(0);
    const received = listen(second);
    expect(model.receiveBuffersAvailable).toBe(256);
    model.deliver(frame(101));
    second.transmit(frame(5));
    await machine.settle();
    expect(received).toEqual([101]);
    expect(model.sent.map(sequenceOf)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('waits for a modern device to finish its reset before going on', () => {
    const model = new VirtioNetModel(machine);
    model.status = 15;
    model.resetReads = 3;
    const nic = new VirtioNet(new PciDevice(0, 3, 0), `vn${serial++}`);
    // Reset, then ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK, each added to what the status read back.
    expect(model.statusWrites).toEqual([0, 1, 3, 11, 15]);
    expect(nic.linkUp).toBe(true);
  });
});
