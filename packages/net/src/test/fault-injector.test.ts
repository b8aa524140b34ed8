import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock, seededRandom } from '../clock.js';
import type { LinkDevice, LinkTransmitResult } from '../iface/link-device.js';
import { FaultInjector, type FaultInjectorOptions, type FaultStats } from './fault-injector.js';
import { linkPair } from './loopback-device.js';
import { NetError } from '../errors.js';

/** A device that records what reaches it, with the time; `answer` decides each transmit's result. */
class SinkDevice implements LinkDevice {
  readonly name = 'sink0';
  readonly mac = Uint8Array.of(2, 0, 0, 0, 0, 0x55);
  readonly mtu = 1500;
  readonly frames: { frame: Uint8Array; at: number }[] = [];
  answer: (frame: Uint8Array) => LinkTransmitResult = () => ({ ok: true });
  private listeners: ((frame: Uint8Array) => void)[] = [];

  constructor(private readonly clock: VirtualClock) {}

  transmit(frame: Uint8Array): LinkTransmitResult {
    this.frames.push({ frame: frame.slice(), at: this.clock.now() });
    return this.answer(frame);
  }

  onReceive(listener: (frame: Uint8Array) => void): () => void {
    this.listeners.push(listener);
    return () => {};
  }

  onWritable(_listener: () => void): () => void {
    return () => {};
  }

  deliver(frame: Uint8Array): void {
    for (const listener of this.listeners) listener(frame);
  }

  /** The sequence numbers (first two bytes) of the frames that arrived, in order. */
  get sequence(): number[] {
    return this.frames.map((f) => numbered(f.frame));
  }
}

/** A frame of `length` bytes carrying `n` in its first two bytes and a pattern after. */
function numberedFrame(n: number, length = 64): Uint8Array {
  const frame = new Uint8Array(length);
  for (let i = 2; i < length; i++) frame[i] = (i * 7 + n) & 0xff;
  frame[0] = n >>> 8;
  frame[1] = n & 0xff;
  return frame;
}

function numbered(frame: Uint8Array): number {
  return (frame[0]! << 8) | frame[1]!;
}

function setup(options: FaultInjectorOptions = {}) {
  const clock = new VirtualClock();
  const sink = new SinkDevice(clock);
  const injector = new FaultInjector(clock, options);
  const device = injector.wrap(sink);
  return { clock, sink, injector, device };
}

/** Sends frames 0..count-1 through `device`. */
function sendNumbered(device: LinkDevice, count: number, length = 64): void {
  for (let n = 0; n < count; n++) device.transmit(numberedFrame(n, length));
}

const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

/** The sum of bits that differ between `a` and `b` (same length). */
function bitsDiffering(a: Uint8Array, b: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]! ^ b[i]!;
    while (x) {
      bits += x & 1;
      x >>>= 1;
    }
  }
  return bits;
}

/** Every frame the injector took in is accounted for once nothing is left inside it. */
function expectConservation(stats: FaultStats, inFlight: number): void {
  expect(stats.offered + stats.duplicated).toBe(stats.passed + stats.dropped + stats.oversized + stats.queueDropped + inFlight);
}

describe('FaultInjector without faults', () => {
  it('passes frames unchanged, in order, inside transmit, and returns the device answer', () => {
    const { sink, injector, device } = setup({ seed: 3 });
    sendNumbered(device, 100);
    expect(sink.sequence).toEqual(range(100));
    expect(sink.frames[7]!.frame).toEqual(numberedFrame(7));
    sink.answer = () => ({ ok: false, error: 'too-large' });
    expect(device.transmit(numberedFrame(100))).toEqual({ ok: false, error: 'too-large' });
    expect(injector.stats).toMatchObject({ offered: 101, passed: 101, refused: 1, dropped: 0, duplicated: 0, reordered: 0 });
    expect(injector.inFlight).toBe(0);
  });

  it('looks like the device it wraps and receives from it unchanged', () => {
    const { sink, device } = setup();
    expect([device.name, [...device.mac], device.mtu]).toEqual(['sink0', [...sink.mac], 1500]);
    const got: Uint8Array[] = [];
    device.onReceive((f) => got.push(f));
    sink.deliver(numberedFrame(4));
    expect(got).toEqual([numberedFrame(4)]);
  });

  it('copies the frame, so the stack may reuse its buffer', () => {
    const { clock, sink, device } = setup({ delayMs: 1 });
    const buffer = numberedFrame(1);
    device.transmit(buffer);
    buffer.fill(0xee);
    clock.runUntilIdle();
    expect(sink.frames[0]!.frame).toEqual(numberedFrame(1));
  });
});

describe('drop', () => {
  it('drops nothing at 0 and everything at 1, and counts', () => {
    const none = setup({ drop: 0 });
    sendNumbered(none.device, 500);
    expect(none.sink.sequence).toEqual(range(500));
    expect(none.injector.stats.dropped).toBe(0);

    const all = setup({ drop: 1 });
    for (let n = 0; n < 500; n++) expect(all.device.transmit(numberedFrame(n))).toEqual({ ok: true });
    expect(all.sink.frames).toHaveLength(0);
    expect(all.injector.stats).toMatchObject({ offered: 500, dropped: 500, passed: 0 });
  });

  it('drops about the given share, the rest in order', () => {
    const { sink, injector, device } = setup({ drop: 0.25, seed: 11 });
    sendNumbered(device, 10_000);
    // Three standard deviations of a binomial(10000, 0.25) are 130.
    expect(injector.stats.dropped).toBeGreaterThan(2500 - 130);
    expect(injector.stats.dropped).toBeLessThan(2500 + 130);
    expect(sink.frames).toHaveLength(10_000 - injector.stats.dropped);
    const sequence = sink.sequence;
    expect(sequence).toEqual([...sequence].sort((x, y) => x - y));
  });

  it('partitions and heals with configure', () => {
    const { sink, injector, device } = setup();
    sendNumbered(device, 3);
    injector.configure({ drop: 1 });
    expect(injector.faults.drop).toBe(1);
    device.transmit(numberedFrame(3));
    injector.configure({ drop: 0 });
    device.transmit(numberedFrame(4));
    expect(sink.sequence).toEqual([0, 1, 2, 4]);
  });
});

describe('duplicate', () => {
  it('duplicates nothing at 0 and every frame at 1, each copy right after its original', () => {
    const none = setup({ duplicate: 0 });
    sendNumbered(none.device, 50);
    expect(none.sink.sequence).toEqual(range(50));
    expect(none.injector.stats.duplicated).toBe(0);

    const all = setup({ duplicate: 1 });
    sendNumbered(all.device, 50);
    expect(all.sink.sequence).toEqual(range(50).flatMap((n) => [n, n]));
    expect(all.sink.frames[1]!.frame).toEqual(all.sink.frames[0]!.frame);
    expect(all.sink.frames[1]!.frame).not.toBe(all.sink.frames[0]!.frame);
    expect(all.injector.stats).toMatchObject({ offered: 50, duplicated: 50, passed: 100 });
  });
});

describe('corrupt', () => {
  it('corrupts nothing at 0', () => {
    const { sink, injector, device } = setup({ corrupt: 0 });
    sendNumbered(device, 200);
    for (const [n, f] of sink.frames.entries()) expect(f.frame).toEqual(numberedFrame(n));
    expect(injector.stats.corrupted).toBe(0);
  });

  it('flips exactly one bit of every frame at 1, at varying places', () => {
    const { sink, injector, device } = setup({ corrupt: 1, seed: 5 });
    const originals = range(300).map((n) => numberedFrame(n, 100));
    for (const f of originals) device.transmit(f);
    const places = new Set<number>();
    for (const [i, got] of sink.frames.entries()) {
      expect(bitsDiffering(got.frame, originals[i]!)).toBe(1);
      places.add(got.frame.findIndex((b, j) => b !== originals[i]![j]));
    }
    expect(places.has(0) || places.has(1) || places.has(5)).toBe(true); // header bytes too
    expect(places.size).toBeGreaterThan(50);
    expect(injector.stats.corrupted).toBe(300);
  });

  it('leaves the Ethernet header alone with corruptPayloadOnly', () => {
    const { sink, injector, device } = setup({ corrupt: 1, corruptPayloadOnly: true, seed: 6 });
    const originals = range(300).map((n) => numberedFrame(n, 60));
    for (const f of originals) device.transmit(f);
    for (const [i, got] of sink.frames.entries()) {
      expect(got.frame.subarray(0, 14)).toEqual(originals[i]!.subarray(0, 14));
      expect(bitsDiffering(got.frame, originals[i]!)).toBe(1);
    }
    // A frame with nothing after the header cannot be corrupted that way: it passes and is not counted.
    device.transmit(numberedFrame(999, 14));
    expect(sink.frames[sink.frames.length - 1]!.frame).toEqual(numberedFrame(999, 14));
    expect(injector.stats.corrupted).toBe(300);
  });

  it('does not throw on an empty frame', () => {
    const { sink, injector, device } = setup({ corrupt: 1, duplicate: 1, reorder: 1 });
    expect(device.transmit(new Uint8Array(0))).toEqual({ ok: true });
    expect(injector.stats.corrupted).toBe(0);
    expect(() => device.transmit(new Uint8Array(0))).not.toThrow();
    expect(sink.frames.every((f) => f.frame.length === 0)).toBe(true);
  });
});

describe('reorder', () => {
  it('keeps order at 0', () => {
    const { sink, injector, device } = setup({ reorder: 0 });
    sendNumbered(device, 100);
    expect(sink.sequence).toEqual(range(100));
    expect(injector.stats.reordered).toBe(0);
  });

  it('at 1 with room for one held frame, swaps every pair', () => {
    const { sink, injector, device } = setup({ reorder: 1, reorderLimit: 1 });
    sendNumbered(device, 8);
    expect(sink.sequence).toEqual([1, 0, 3, 2, 5, 4, 7, 6]);
    expect(injector.stats.reordered).toBe(4);
    expect(injector.inFlight).toBe(0);
  });

  it('lets reorderDistance frames overtake a held one', () => {
    const { sink, device } = setup({ reorder: 1, reorderLimit: 1, reorderDistance: 3 });
    sendNumbered(device, 8);
    expect(sink.sequence).toEqual([1, 2, 3, 0, 5, 6, 7, 4]);
  });

  it('holds at most reorderLimit frames', () => {
    const { sink, injector, device } = setup({ reorder: 1, reorderLimit: 3 });
    sendNumbered(device, 8);
    // 0, 1, 2 held; 3 passes and releases them; 4, 5, 6 held; 7 releases them.
    expect(sink.sequence).toEqual([3, 0, 1, 2, 7, 4, 5, 6]);
    expect(injector.stats.reordered).toBe(6);
  });

  it('releases held frames when traffic stops, after reorderTimeoutMs', () => {
    const { clock, sink, injector, device } = setup({ reorder: 1, reorderTimeoutMs: 25 });
    sendNumbered(device, 3);
    expect(sink.frames).toHaveLength(0);
    expect(injector.inFlight).toBe(3);
    clock.advance(24);
    expect(sink.frames).toHaveLength(0);
    const spent = clock.runUntilIdle();
    expect(spent).toBe(1);
    expect(sink.sequence).toEqual([0, 1, 2]);
    expect(sink.frames.map((f) => f.at)).toEqual([25, 25, 25]);
    expect(injector.inFlight).toBe(0);
  });

  it('cancels the timeout of a frame released by traffic', () => {
    const { clock, device } = setup({ reorder: 1, reorderLimit: 1, reorderTimeoutMs: 1000 });
    sendNumbered(device, 2);
    expect(clock.nextDeadline()).toBeUndefined();
  });

  it('never loses or invents a frame, whatever the traffic and settings', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer(),
          reorder: fc.double({ min: 0, max: 1, noNaN: true }),
          reorderDistance: fc.integer({ min: 1, max: 5 }),
          reorderLimit: fc.integer({ min: 0, max: 10 }),
          reorderTimeoutMs: fc.integer({ min: 0, max: 50 }),
        }),
        fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 80 }),
        (options, gaps) => {
          const { clock, sink, injector, device } = setup(options);
          for (const [n, gap] of gaps.entries()) {
            device.transmit(numberedFrame(n));
            clock.advance(gap);
          }
          const spent = clock.runUntilIdle();
          expect(spent).toBeLessThanOrEqual(options.reorderTimeoutMs);
          expect([...sink.sequence].sort((x, y) => x - y)).toEqual(range(gaps.length));
          expect(injector.inFlight).toBe(0);
        },
      ),
    );
  });
});

describe('delay', () => {
  it('adds delayMs to every frame and counts it', () => {
    const { clock, sink, injector, device } = setup({ delayMs: 40 });
    clock.advance(10);
    expect(device.transmit(numberedFrame(0))).toEqual({ ok: true });
    clock.advance(5);
    device.transmit(numberedFrame(1));
    expect(sink.frames).toHaveLength(0);
    clock.runUntilIdle();
    expect(sink.frames.map((f) => f.at)).toEqual([50, 55]);
    expect(injector.stats.delayed).toBe(2);
  });

  it('adds jitter in [0, jitterMs] yet keeps order', () => {
    const { clock, sink, injector, device } = setup({ delayMs: 10, jitterMs: 20, seed: 8 });
    const sentAt: number[] = [];
    for (let n = 0; n < 200; n++) {
      sentAt.push(clock.now());
      device.transmit(numberedFrame(n));
      clock.advance(1);
    }
    clock.runUntilIdle();
    expect(sink.sequence).toEqual(range(200));
    const delays = sink.frames.map((f, i) => f.at - sentAt[i]!);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...delays)).toBeLessThanOrEqual(30);
    expect(new Set(delays.map(Math.round)).size).toBeGreaterThan(5);
    expect(injector.stats.delayed).toBe(200);
  });

  it('sends each frame at its own drawn time, or right behind the frame before it', () => {
    const seed = 21;
    const { clock, sink, device } = setup({ seed, delayMs: 5, jitterMs: 40 });
    // The injector draws nine numbers per frame, whatever the options; the eighth is the frame's jitter.
    const reference = seededRandom(seed);
    let previous = 0;
    const expected: number[] = [];
    for (let n = 0; n < 100; n++) {
      const draws = Array.from({ length: 9 }, () => reference.uint32() / 2 ** 32);
      previous = Math.max(previous, clock.now() + 5 + draws[7]! * 40);
      expected.push(previous);
      device.transmit(numberedFrame(n));
      clock.advance(2);
    }
    clock.runUntilIdle();
    expect(sink.sequence).toEqual(range(100));
    const times = sink.frames.map((f) => f.at);
    for (const [i, at] of times.entries()) expect(at).toBeCloseTo(expected[i]!, 9);
    // Head-of-line blocking happened: some frames left later than their own draw.
    expect(new Set(times).size).toBeLessThan(100);
  });

  it('counts a device refusal after a delay, since transmit already answered ok', () => {
    const { clock, sink, injector, device } = setup({ delayMs: 1 });
    sink.answer = () => ({ ok: false, error: 'too-large' });
    expect(device.transmit(numberedFrame(0))).toEqual({ ok: true });
    clock.runUntilIdle();
    expect(injector.stats).toMatchObject({ passed: 1, refused: 1 });
  });
});

describe('rate limit', () => {
  it('shapes a saturating sender to the configured bytes per second, within 5%', () => {
    const rate = 125_000;
    const { clock, sink, injector, device } = setup({ rateBytesPerSecond: rate, rateQueueBytes: 16_000 });
    // Offer 1000-byte frames at 1 MB/s, eight times the link rate, for 20 simulated seconds.
    for (let n = 0; n < 20_000; n++) {
      device.transmit(numberedFrame(n & 0xffff, 1000));
      clock.advance(1);
    }
    const inWindow = sink.frames.filter((f) => f.at >= 2000 && f.at < 20_000);
    const throughput = (inWindow.length * 1000) / 18;
    expect(throughput).toBeGreaterThan(rate * 0.95);
    expect(throughput).toBeLessThan(rate * 1.05);
    expect(injector.stats.queueDropped).toBeGreaterThan(15_000);
    expect(injector.stats.queuePeakBytes).toBeLessThanOrEqual(16_000);
    expect(injector.stats.queuePeakBytes).toBeGreaterThan(15_000);
    clock.runUntilIdle();
    expectConservation(injector.stats, injector.inFlight);
  });

  it('spaces frames by their serialization time and keeps order', () => {
    const { clock, sink, injector, device } = setup({ rateBytesPerSecond: 10_000 });
    sendNumbered(device, 5, 100); // 10 ms each on the wire
    expect(sink.frames).toHaveLength(0);
    clock.runUntilIdle();
    expect(sink.sequence).toEqual(range(5));
    expect(sink.frames.map((f) => f.at)).toEqual([10, 20, 30, 40, 50]);
    expect(injector.stats.queueDropped).toBe(0);
  });

  it('drops what does not fit the queue, and counts it', () => {
    const { clock, sink, injector, device } = setup({ rateBytesPerSecond: 1000, rateQueueBytes: 300 });
    sendNumbered(device, 5, 100);
    clock.runUntilIdle();
    expect(sink.sequence).toEqual([0, 1, 2]);
    expect(injector.stats.queueDropped).toBe(2);
    expect(injector.stats.queuePeakBytes).toBe(300);
  });

  it('limits each wrapped device (each direction) on its own', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock });
    const injector = new FaultInjector(clock, { rateBytesPerSecond: 100_000 });
    const wrappedA = injector.wrap(a);
    const wrappedB = injector.wrap(b);
    let bytesAtA = 0;
    let bytesAtB = 0;
    a.onReceive((f) => (bytesAtA += f.length));
    b.onReceive((f) => (bytesAtB += f.length));
    for (let i = 0; i < 1000; i++) {
      wrappedA.transmit(numberedFrame(i, 500));
      wrappedB.transmit(numberedFrame(i, 500));
      clock.advance(5); // 100 KB/s offered each way: exactly the link rate
    }
    clock.runUntilIdle();
    expect(bytesAtA).toBe(500_000);
    expect(bytesAtB).toBe(500_000);
    expect(injector.stats.queueDropped).toBe(0);
  });
});

describe('size limit', () => {
  it('drops frames longer than maxFrameBytes and counts them', () => {
    const { sink, injector, device } = setup({ maxFrameBytes: 100 });
    expect(device.transmit(numberedFrame(0, 100))).toEqual({ ok: true });
    expect(device.transmit(numberedFrame(1, 101))).toEqual({ ok: true });
    expect(device.transmit(numberedFrame(2, 1514))).toEqual({ ok: true });
    expect(sink.sequence).toEqual([0]);
    expect(injector.stats.oversized).toBe(2);
  });

  it('drops nothing without a limit', () => {
    const { sink, injector, device } = setup();
    device.transmit(numberedFrame(0, 9000));
    expect(sink.frames).toHaveLength(1);
    expect(injector.stats.oversized).toBe(0);
  });
});

describe('determinism', () => {
  const faults: FaultInjectorOptions = {
    drop: 0.2,
    duplicate: 0.2,
    reorder: 0.2,
    corrupt: 0.2,
    delayMs: 3,
    jitterMs: 7,
    rateBytesPerSecond: 200_000,
    rateQueueBytes: 4000,
  };

  function run(seed: number) {
    const { clock, sink, injector, device } = setup({ ...faults, seed });
    for (let n = 0; n < 2000; n++) {
      device.transmit(numberedFrame(n, 60 + (n % 200)));
      clock.advance(n % 3);
    }
    clock.runUntilIdle();
    // As text: quick to compare, readable in a diff.
    const frames = sink.frames.map((f) => `${f.at} ${Array.from(f.frame, (b) => b.toString(16).padStart(2, '0')).join('')}`);
    return { frames, stats: { ...injector.stats } };
  }

  it('makes the same decisions with the same seed over the same traffic', () => {
    const first = run(1234);
    const second = run(1234);
    expect(second.frames).toEqual(first.frames);
    expect(second.stats).toEqual(first.stats);
    for (const count of [first.stats.dropped, first.stats.duplicated, first.stats.reordered, first.stats.corrupted]) {
      expect(count).toBeGreaterThan(0);
    }
  });

  it('makes different decisions with a different seed', () => {
    const first = run(1234);
    const other = run(1235);
    expect(other.frames).not.toEqual(first.frames);
    expect(other.stats).not.toEqual(first.stats);
  });

  it('gives frame n the same drop decision whatever the other faults', () => {
    const plain = setup({ seed: 77, drop: 0.5 });
    const busy = setup({ seed: 77, drop: 0.5, corrupt: 1, corruptPayloadOnly: true, maxFrameBytes: 1000 });
    sendNumbered(plain.device, 300);
    sendNumbered(busy.device, 300);
    expect(busy.sink.sequence).toEqual(plain.sink.sequence);
  });
});

describe('robustness', () => {
  it('never throws out of transmit and accounts for every frame', () => {
    const probability = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(
        fc.record(
          {
            seed: fc.integer(),
            drop: probability,
            duplicate: probability,
            reorder: probability,
            reorderDistance: fc.integer({ min: 1, max: 4 }),
            reorderLimit: fc.integer({ min: 0, max: 4 }),
            reorderTimeoutMs: fc.integer({ min: 0, max: 20 }),
            corrupt: probability,
            corruptPayloadOnly: fc.boolean(),
            delayMs: fc.integer({ min: 0, max: 20 }),
            jitterMs: fc.double({ min: 0, max: 20, noNaN: true }),
            rateBytesPerSecond: fc.integer({ min: 1000, max: 1_000_000 }),
            rateQueueBytes: fc.integer({ min: 0, max: 5000 }),
            maxFrameBytes: fc.integer({ min: 0, max: 2000 }),
          },
          { requiredKeys: ['seed'] },
        ),
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 1600 }), fc.integer({ min: 0, max: 10 })), { maxLength: 40 }),
        (options, traffic) => {
          const { clock, injector, device } = setup(options);
          for (const [frame, gap] of traffic) {
            expect(device.transmit(frame).ok).toBe(true);
            expect(() => clock.advance(gap)).not.toThrow();
          }
          clock.runUntilIdle();
          expect(injector.inFlight).toBe(0);
          expect(injector.stats.offered).toBe(traffic.length);
          expectConservation(injector.stats, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses bad options when given, not later', () => {
    const clock = new VirtualClock();
    for (const bad of [
      { drop: 1.5 },
      { duplicate: -0.1 },
      { reorder: Number.NaN },
      { corrupt: 2 },
      { delayMs: -1 },
      { jitterMs: Infinity },
      { rateBytesPerSecond: 0 },
      { rateQueueBytes: -1 },
      { maxFrameBytes: 1.5 },
      { reorderDistance: 0 },
      { reorderLimit: -1 },
    ]) {
      expect(() => new FaultInjector(clock, bad), JSON.stringify(bad)).toThrow(NetError);
    }
    const injector = new FaultInjector(clock, { drop: 0.5 });
    expect(() => injector.configure({ drop: 7 })).toThrow(NetError);
    expect(injector.faults.drop).toBe(0.5);
  });
});

describe('between a linkPair', () => {
  it('carries frames both ways through the faults', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock, latencyMs: 2 });
    const injector = new FaultInjector(clock, { seed: 9, duplicate: 1, delayMs: 3 });
    const sideA = injector.wrap(a);
    const sideB = injector.wrap(b);
    const atA: number[] = [];
    const atB: number[] = [];
    sideA.onReceive((f) => atA.push(numbered(f)));
    sideB.onReceive((f) => atB.push(numbered(f)));
    sideA.transmit(numberedFrame(1));
    sideB.transmit(numberedFrame(2));
    expect(clock.runUntilIdle()).toBe(5);
    expect(atB).toEqual([1, 1]);
    expect(atA).toEqual([2, 2]);
  });
});
