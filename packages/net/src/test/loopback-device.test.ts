import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock.js';
import { LoopbackDevice, linkPair } from './loopback-device.js';
import { NetError } from '../errors.js';

/** A frame of `length` bytes whose bytes all equal `marker`. */
function frame(marker: number, length = 60): Uint8Array {
  return new Uint8Array(length).fill(marker);
}

/** Collects what `device` receives, as copies, with the time of arrival. */
function received(device: LoopbackDevice, clock: VirtualClock): { frame: Uint8Array; at: number }[] {
  const log: { frame: Uint8Array; at: number }[] = [];
  device.onReceive((f) => log.push({ frame: f.slice(), at: clock.now() }));
  return log;
}

describe('linkPair', () => {
  it('delivers what one device transmits to the other, and only to the other', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock });
    const atA = received(a, clock);
    const atB = received(b, clock);
    expect(a.transmit(frame(1))).toEqual({ ok: true });
    expect(b.transmit(frame(2))).toEqual({ ok: true });
    clock.runUntilIdle();
    expect(atB.map((r) => r.frame)).toEqual([frame(1)]);
    expect(atA.map((r) => r.frame)).toEqual([frame(2)]);
    expect(a.stats).toEqual({ transmitted: 1, received: 1, refused: 0 });
    expect(b.stats).toEqual({ transmitted: 1, received: 1, refused: 0 });
  });

  it('never delivers inside transmit, even with no latency', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock });
    const atB = received(b, clock);
    a.transmit(frame(1));
    expect(atB).toHaveLength(0);
    expect(a.inFlight).toBe(1);
    clock.advance(0);
    expect(atB).toHaveLength(1);
    expect(a.inFlight).toBe(0);
  });

  it('does not re-enter a receiver that answers from inside its listener', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock });
    let depth = 0;
    let deepest = 0;
    let bounces = 0;
    // Ping-pong: each side answers every frame; a synchronous wire would recurse without end.
    for (const device of [a, b]) {
      device.onReceive((f) => {
        depth++;
        deepest = Math.max(deepest, depth);
        if (++bounces < 100) device.transmit(f);
        depth--;
      });
    }
    a.transmit(frame(9));
    clock.runUntilIdle();
    expect(bounces).toBe(100);
    expect(deepest).toBe(1);
  });

  it('keeps order: frames arrive as they were sent', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 50 }), fc.integer({ min: 0, max: 20 }), (markers, latencyMs) => {
        const clock = new VirtualClock();
        const [a, b] = linkPair({ clock, latencyMs });
        const atB = received(b, clock);
        for (const m of markers) a.transmit(frame(m, 20));
        clock.runUntilIdle();
        expect(atB.map((r) => r.frame[0])).toEqual(markers);
      }),
    );
  });

  it('keeps order when frames are sent at different times', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock, latencyMs: 5 });
    const atB = received(b, clock);
    for (let i = 0; i < 10; i++) {
      a.transmit(frame(i));
      clock.advance(i % 3);
    }
    clock.runUntilIdle();
    expect(atB.map((r) => r.frame[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('delivers after latencyMs', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock, latencyMs: 7 });
    const atB = received(b, clock);
    const atA = received(a, clock);
    clock.advance(3);
    a.transmit(frame(1));
    clock.advance(6.5);
    expect(atB).toHaveLength(0);
    clock.advance(0.5);
    expect(atB.map((r) => r.at)).toEqual([10]);
    b.transmit(frame(2));
    clock.runUntilIdle();
    expect(atA.map((r) => r.at)).toEqual([17]);
  });

  it('copies the frame: the sender may reuse its buffer at once', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock });
    const atB = received(b, clock);
    const buffer = frame(1);
    a.transmit(buffer);
    buffer.fill(2);
    a.transmit(buffer);
    buffer.fill(3);
    clock.runUntilIdle();
    expect(atB.map((r) => r.frame)).toEqual([frame(1), frame(2)]);
  });

  it('copies a view of a larger buffer, not the buffer behind it', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock });
    const atB = received(b, clock);
    const backing = Uint8Array.from({ length: 100 }, (_, i) => i);
    a.transmit(backing.subarray(10, 30));
    clock.runUntilIdle();
    expect(atB[0]!.frame).toEqual(backing.slice(10, 30));
  });

  it('refuses frames longer than mtu + 14 with too-large, and accepts mtu + 14', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock, mtu: 1500 });
    const atB = received(b, clock);
    expect(a.transmit(frame(1, 1515))).toEqual({ ok: false, error: 'too-large' });
    expect(a.transmit(frame(2, 1514))).toEqual({ ok: true });
    clock.runUntilIdle();
    expect(atB.map((r) => r.frame.length)).toEqual([1514]);
    expect(a.stats).toMatchObject({ transmitted: 1, refused: 1 });
  });

  it('honours a smaller mtu', () => {
    const clock = new VirtualClock();
    const [a] = linkPair({ clock, mtu: 576 });
    expect(a.mtu).toBe(576);
    expect(a.transmit(frame(1, 591))).toEqual({ ok: false, error: 'too-large' });
    expect(a.transmit(frame(1, 590))).toEqual({ ok: true });
  });

  it('uses the default and given MACs and names', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock });
    expect([...a.mac]).toEqual([2, 0, 0, 0, 0, 1]);
    expect([...b.mac]).toEqual([2, 0, 0, 0, 0, 2]);
    expect([a.name, b.name]).toEqual(['link-a', 'link-b']);
    expect(a.mtu).toBe(1500);
    const macA = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56);
    const [c, d] = linkPair({ clock, macA, macB: Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x57), names: ['eth0', 'eth1'] });
    expect([...c.mac]).toEqual([...macA]);
    expect(d.mac[5]).toBe(0x57);
    expect([c.name, d.name]).toEqual(['eth0', 'eth1']);
  });

  it('rejects bad options', () => {
    const clock = new VirtualClock();
    expect(() => linkPair({ clock, macA: new Uint8Array(5) })).toThrow(NetError);
    expect(() => linkPair({ clock, latencyMs: -1 })).toThrow(NetError);
    expect(() => linkPair({ clock, mtu: 1.5 })).toThrow(NetError);
  });

  it('stops calling a listener once it unsubscribes, and calls every listener', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock });
    const first: number[] = [];
    const second: number[] = [];
    const stop = b.onReceive((f) => first.push(f[0]!));
    b.onReceive((f) => second.push(f[0]!));
    a.transmit(frame(1));
    clock.runUntilIdle();
    stop();
    a.transmit(frame(2));
    clock.runUntilIdle();
    expect(first).toEqual([1]);
    expect(second).toEqual([1, 2]);
  });

  it('is never busy: onWritable gives an unsubscribe and never calls back', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock });
    let calls = 0;
    const stop = a.onWritable(() => calls++);
    for (let i = 0; i < 1000; i++) a.transmit(frame(i & 0xff));
    clock.runUntilIdle();
    stop();
    expect(calls).toBe(0);
    expect(b.stats.received).toBe(1000);
  });

  it('works with the real clock interface shape: only setTimer and now are used', () => {
    const timers: { ms: number; callback: () => void }[] = [];
    const clock = {
      now: () => 0,
      setTimer: (ms: number, callback: () => void) => {
        timers.push({ ms, callback });
        return { cancel() {} };
      },
    };
    const [a, b] = linkPair({ clock, latencyMs: 4 });
    const got: number[] = [];
    b.onReceive((f) => got.push(f[0]!));
    a.transmit(frame(1));
    a.transmit(frame(2));
    // One timer for the frames due at one instant; they arrive in the order they were sent.
    expect(timers.map((t) => t.ms)).toEqual([4]);
    timers[0]!.callback();
    expect(got).toEqual([1, 2]);
  });
});

describe('linkPair batches', () => {
  it('ends a batch after the frames due at one instant, at the receiving end', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock, latencyMs: 1 });
    const events: string[] = [];
    b.onReceive((f) => events.push(`frame ${f[0]}`));
    b.onReceiveBatchEnd(() => events.push('end'));
    a.onReceiveBatchEnd(() => events.push('wrong end'));
    a.transmit(frame(1));
    a.transmit(frame(2));
    clock.advance(1);
    a.transmit(frame(3));
    clock.advance(1);
    expect(events).toEqual(['frame 1', 'frame 2', 'end', 'frame 3', 'end']);
  });
});

describe('LoopbackDevice alone', () => {
  it('receives its own frames through the clock', () => {
    const clock = new VirtualClock();
    const lo = new LoopbackDevice({ clock, latencyMs: 2 });
    const got = received(lo, clock);
    expect(lo.transmit(frame(5))).toEqual({ ok: true });
    expect(got).toHaveLength(0);
    clock.runUntilIdle();
    expect(got).toEqual([{ frame: frame(5), at: 2 }]);
    expect(lo.name).toBe('lo');
    expect(lo.stats).toEqual({ transmitted: 1, received: 1, refused: 0 });
  });

  it('joins a peer given at construction, and not one already joined', () => {
    const clock = new VirtualClock();
    const a = new LoopbackDevice({ clock, name: 'a' });
    const b = new LoopbackDevice({ clock, name: 'b', peer: a, mac: Uint8Array.of(2, 0, 0, 0, 0, 9) });
    const atA = received(a, clock);
    const atB = received(b, clock);
    a.transmit(frame(1));
    b.transmit(frame(2));
    clock.runUntilIdle();
    expect(atB.map((r) => r.frame[0])).toEqual([1]);
    expect(atA.map((r) => r.frame[0])).toEqual([2]);
    expect(() => new LoopbackDevice({ clock, peer: a })).toThrow(/already joined/);
  });
});

describe('@uos/net/test', () => {
  it('exports the devices, the writer and the clock helpers', async () => {
    const exported = await import('./index.js');
    for (const name of ['LoopbackDevice', 'linkPair', 'FaultInjector', 'PcapWriter', 'VirtualClock', 'seededRandom']) {
      expect(typeof (exported as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(exported.PCAP_MAGIC_MICROSECONDS).toBe(0xa1b2c3d4);
  });
});
