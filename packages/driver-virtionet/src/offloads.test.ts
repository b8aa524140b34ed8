import { FrameInfo, GsoType, NO_OFFLOADS, PciDevice } from '@uos/hw';
import { FakeMachine } from '@uos/hw/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { negotiate } from './features.js';
import { Feature, OFFLOAD_FEATURES, VirtioNetModel, type VirtioNetModelOptions } from './test/virtio-net-model.js';
import { VirtioNet, type VirtioNetOptions } from './virtio-net.js';

let machine: FakeMachine;
beforeEach(() => {
  machine = new FakeMachine().install();
});
afterEach(() => {
  machine.uninstall();
});

const bit = (n: bigint): bigint => 1n << n;
const BASE = bit(Feature.version1) | bit(Feature.mac) | bit(Feature.status) | bit(Feature.mergeableRxBuffers);

let serial = 0;
function setUp(modelOptions: VirtioNetModelOptions = {}, nicOptions: VirtioNetOptions = {}): { model: VirtioNetModel; nic: VirtioNet } {
  const model = new VirtioNetModel(machine, { features: BASE | OFFLOAD_FEATURES, ...modelOptions });
  return { model, nic: new VirtioNet(new PciDevice(0, 3, 0), `vo${serial++}`, nicOptions) };
}

/** A frame of `length` bytes: an Ethernet header, then bytes that say where they are. */
function frame(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes.set([0x52, 0x54, 0, 0x12, 0x34, 0x56, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  for (let i = 14; i < length; i++) bytes[i] = (i * 7 + seed) & 0xff;
  return bytes;
}

/** The offload fields of a virtio_net_hdr the model recorded. */
function header(bytes: Uint8Array) {
  const u16 = (at: number) => bytes[at]! | (bytes[at + 1]! << 8);
  return { flags: bytes[0], gsoType: bytes[1], headerLength: u16(2), gsoSize: u16(4), checksumStart: u16(6), checksumOffset: u16(8) };
}

interface Received {
  bytes: Uint8Array;
  info: { checksumValid: boolean; checksumStart: number; gsoType: number; gsoSize: number; headerLength: number };
}
function listen(nic: VirtioNet): Received[] {
  const received: Received[] = [];
  nic.onReceive((f, info) =>
    received.push({
      bytes: f.slice(),
      info: {
        checksumValid: info.checksumValid,
        checksumStart: info.checksumStart,
        gsoType: info.gsoType,
        gsoSize: info.gsoSize,
        headerLength: info.headerLength,
      },
    }),
  );
  return received;
}

describe('negotiating offloads', () => {
  it('takes every offload a tap-backed device offers, with their dependencies', () => {
    const { offloads, eventIndex } = negotiate(BASE | OFFLOAD_FEATURES, false);
    expect(offloads).toEqual({ checksumTx: true, checksumRx: true, tsoMaxBytes: 65535, tso4: true, tso6: true, coalescedRx: true });
    expect(eventIndex).toBe(true);
  });

  it.each([
    ['nothing offered (user networking, dgram)', BASE, NO_OFFLOADS],
    ['host TSO without CSUM', BASE | bit(Feature.hostTso4), NO_OFFLOADS],
    [
      'CSUM alone',
      BASE | bit(Feature.csum),
      { checksumTx: true, checksumRx: false, tsoMaxBytes: 0, tso4: false, tso6: false, coalescedRx: false },
    ],
    [
      'guest TSO without mergeable buffers',
      (BASE & ~bit(Feature.mergeableRxBuffers)) | bit(Feature.guestCsum) | bit(Feature.guestTso4),
      { checksumTx: false, checksumRx: true, tsoMaxBytes: 0, tso4: false, tso6: false, coalescedRx: false },
    ],
    [
      'TSO for IPv4 only',
      BASE | bit(Feature.csum) | bit(Feature.hostTso4),
      { checksumTx: true, checksumRx: false, tsoMaxBytes: 65535, tso4: true, tso6: false, coalescedRx: false },
    ],
  ])('%s', (_name, offered, expected) => {
    expect(negotiate(offered, false).offloads).toEqual(expected);
  });

  it('leaves them off when asked to, and takes them over the legacy interface too', () => {
    expect(negotiate(BASE | OFFLOAD_FEATURES, false, { offloads: false }).offloads).toBe(NO_OFFLOADS);
    expect(negotiate(BASE | OFFLOAD_FEATURES, false, { eventIndex: false }).eventIndex).toBe(false);
    const legacy = negotiate(BASE | OFFLOAD_FEATURES, true);
    expect(legacy.features >> 32n).toBe(0n);
    expect(legacy.offloads.coalescedRx).toBe(true);
  });

  it('tells the device what it took, and reports NO_OFFLOADS when the device offers none', () => {
    const { model, nic } = setUp();
    expect(model.driverFeatures & OFFLOAD_FEATURES).toBe(OFFLOAD_FEATURES);
    expect(nic.offloads.tsoMaxBytes).toBe(65535);
    machine.uninstall();
    machine = new FakeMachine().install();
    const plain = setUp({ features: BASE });
    expect(plain.nic.offloads).toBe(NO_OFFLOADS);
    expect(plain.model.driverFeatures & OFFLOAD_FEATURES).toBe(0n);
  });
});

describe.each([
  ['modern', {}],
  ['legacy', { legacyOnly: true }],
] as const)('VirtioNet offloads over the %s transport', (_name, transport) => {
  it('asks the device to fill in a checksum, and leaves the header clear without FrameInfo', async () => {
    const { model, nic } = setUp(transport);
    const info = new FrameInfo();
    info.checksumStart = 34;
    info.checksumOffset = 16;
    expect(nic.transmit(frame(100), info).ok).toBe(true);
    expect(nic.transmit(frame(100)).ok).toBe(true);
    await machine.settle();
    expect(header(model.sentHeaders[0]!)).toEqual({
      flags: 1,
      gsoType: 0,
      headerLength: 0,
      gsoSize: 0,
      checksumStart: 34,
      checksumOffset: 16,
    });
    expect(model.sentHeaders[1]!.every((b) => b === 0)).toBe(true);
    expect(model.sent[0]).toEqual(frame(100));
  });

  it('sends a 64 KiB TCP segment as one chain with its segmentation request, byte for byte', async () => {
    const { model, nic } = setUp(transport);
    const info = new FrameInfo();
    Object.assign(info, { checksumStart: 34, checksumOffset: 16, gsoType: GsoType.tcp4, gsoSize: 1448, headerLength: 66 });
    const big = frame(14 + 65535, 3);
    expect(nic.transmit(big, info)).toEqual({ ok: true });
    await machine.settle();
    expect(model.sent[0]).toEqual(big);
    expect(header(model.sentHeaders[0]!)).toEqual({
      flags: 1,
      gsoType: GsoType.tcp4,
      headerLength: 66,
      gsoSize: 1448,
      checksumStart: 34,
      checksumOffset: 16,
    });
    expect(nic.transmit(frame(14 + 65536), info)).toEqual({ ok: false, error: 'too-large' });
    expect(nic.transmit(frame(1600))).toEqual({ ok: false, error: 'too-large' });
  });

  it('answers busy when a segment needs more slots than are free, then onWritable, and loses nothing', async () => {
    const { model, nic } = setUp(transport);
    model.holdTransmits = true;
    const info = new FrameInfo();
    Object.assign(info, { checksumStart: 34, checksumOffset: 16, gsoType: GsoType.tcp4, gsoSize: 1448, headerLength: 66 });
    // 33 slots per 64 KiB segment: seven fit in 256.
    for (let i = 0; i < 7; i++) expect(nic.transmit(frame(14 + 65535, i), info).ok).toBe(true);
    expect(nic.transmit(frame(14 + 65535, 7), info)).toEqual({ ok: false, error: 'busy' });
    expect(nic.transmit(frame(60, 8)).ok).toBe(true);
    let writable = 0;
    nic.onWritable(() => writable++);
    await machine.settle();
    model.completeTransmits(2);
    await machine.settle();
    expect(writable).toBe(1);
    expect(nic.transmit(frame(14 + 65535, 7), info).ok).toBe(true);
    model.holdTransmits = false;
    model.completeTransmits();
    await machine.settle();
    expect(model.sent.map((f) => f[20])).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 7].map((seed) => frame(30, seed)[20]));
    expect(model.sent[8]).toEqual(frame(14 + 65535, 7));
  });

  it('refuses segmentation the device did not negotiate', () => {
    const { nic } = setUp({ ...transport, features: BASE | bit(Feature.csum) | bit(Feature.hostTso4) });
    const info = new FrameInfo();
    Object.assign(info, { checksumStart: 54, checksumOffset: 16, gsoType: GsoType.tcp6, gsoSize: 1428, headerLength: 86 });
    expect(nic.transmit(frame(20_000), info)).toEqual({ ok: false, error: 'too-large' });
    info.gsoType = GsoType.tcp4;
    expect(nic.transmit(frame(20_000), info).ok).toBe(true);
  });

  it('ignores a checksum request the device cannot serve (no CSUM): the header stays clear', async () => {
    const { model, nic } = setUp({ ...transport, features: BASE });
    const info = new FrameInfo();
    info.checksumStart = 34;
    info.checksumOffset = 16;
    expect(nic.transmit(frame(100), info).ok).toBe(true);
    await machine.settle();
    expect(model.sentHeaders[0]!.every((b) => b === 0)).toBe(true);
  });

  it('receives a coalesced segment spread over many buffers as one frame, with its offload information', async () => {
    const { model, nic } = setUp(transport);
    const received = listen(nic);
    const big = frame(14 + 40_000, 5);
    expect(
      model.deliver(big, { flags: 1, gsoType: GsoType.tcp4, gsoSize: 1448, headerLength: 66, checksumStart: 34, checksumOffset: 16 }),
    ).toBe(true);
    expect(model.deliver(frame(60, 1), { flags: 2 })).toBe(true);
    expect(model.deliver(frame(70, 2))).toBe(true);
    await machine.settle();
    expect(received.map((r) => r.bytes.length)).toEqual([14 + 40_000, 60, 70]);
    expect(received[0]!.bytes).toEqual(big);
    expect(received[0]!.info).toEqual({ checksumValid: true, checksumStart: 34, gsoType: GsoType.tcp4, gsoSize: 1448, headerLength: 66 });
    expect(received[1]!.info).toEqual({ checksumValid: true, checksumStart: -1, gsoType: 0, gsoSize: 0, headerLength: 0 });
    expect(received[2]!.info.checksumValid).toBe(false);
    expect(model.receiveBuffersAvailable).toBe(256);
  });

  it('copies a coalesced segment whose buffers wrap around the ring, and keeps the order through many laps', async () => {
    const { model, nic } = setUp(transport);
    const received = listen(nic);
    // Frames are views of the receive buffers, except a segment that wraps: a copy in another buffer.
    const memories = new Set<ArrayBufferLike>();
    nic.onReceive((f) => memories.add(f.buffer));
    const sizes: number[] = [];
    // 16 or 17 buffers a round: the segments of rounds 15 and 16 wrap from buffer 255 to buffer 0.
    for (let round = 0; round < 24; round++) {
      for (let i = 0; i < 6; i++) {
        const length = i === 5 ? 14 + 20_000 + round * 50 : 60 + round;
        sizes.push(length);
        expect(model.deliver(frame(length, round + i), i === 5 ? { flags: 1, gsoType: 1, gsoSize: 1448 } : {})).toBe(true);
      }
      await machine.settle();
    }
    expect(received.map((r) => r.bytes.length)).toEqual(sizes);
    received.forEach((r, k) => expect(r.bytes).toEqual(frame(sizes[k]!, Math.floor(k / 6) + (k % 6))));
    expect(memories.size).toBe(2);
    expect(model.receiveBuffersAvailable).toBe(256);
  }, 30_000);
});

describe('VirtioNet notification suppression (event indices)', () => {
  it('takes a burst of frames with one interrupt, and says when the batch ended', async () => {
    const { model, nic } = setUp();
    const received = listen(nic);
    let batches = 0;
    nic.onReceiveBatchEnd(() => batches++);
    for (let i = 0; i < 50; i++) model.deliver(frame(60, i));
    await machine.settle();
    expect(received.length).toBe(50);
    expect(model.interruptsRaised[0]).toBe(1);
    expect(batches).toBe(1);
    for (let i = 0; i < 3; i++) {
      model.deliver(frame(60, i));
      await machine.settle();
    }
    expect([received.length, model.interruptsRaised[0], batches]).toEqual([53, 4, 4]);
  });

  it('sends without transmit interrupts, reclaiming slots as sends need them', async () => {
    const { model, nic } = setUp();
    for (let sequence = 0; sequence < 1000; ) {
      for (let i = 0; i < 100; i++) expect(nic.transmit(frame(60, sequence++)).ok).toBe(true);
      await machine.settle();
    }
    expect(model.sent.length).toBe(1000);
    expect(model.interruptsRaised[1]).toBe(0);
    expect(nic.stats.txBusy.value).toBe(0);
  });

  it('without event indices, interrupts per batch as before', async () => {
    const { model, nic } = setUp({}, { eventIndex: false });
    const received = listen(nic);
    for (let i = 0; i < 3; i++) {
      model.deliver(frame(60, i));
      await machine.settle();
    }
    expect(received.length).toBe(3);
    expect(model.interruptsRaised[0]).toBe(3);
  });
});
