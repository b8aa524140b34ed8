import { UosError } from '@uos/errors';
import { describe, expect, it, vi } from 'vitest';
import {
  type StatHandle,
  type StatKind,
  type StatType,
  Statman,
  StatmanError,
  type StatmanErrorCode,
  statman,
  u64Words,
} from './statman.js';

const twoTo32 = 2 ** 32;
const twoTo53 = 2 ** 53;

/** Runs `action`, expects a StatmanError and returns it. */
function caught(action: () => unknown): StatmanError {
  try {
    action();
  } catch (error) {
    expect(UosError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(StatmanError);
    expect((error as StatmanError).name).toBe('StatmanError');
    return error as StatmanError;
  }
  throw new Error('expected a StatmanError, nothing was thrown');
}

/** The low and high words of a u64 stat. */
function words(handle: StatHandle): [number, number] {
  return [handle.array[handle.index]!, handle.array[handle.index + 1]!];
}

/** A 32-bit linear congruential generator (Numerical Recipes constants), so runs are reproducible. */
function createRandom(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 0x1_0000_0000) * limit);
  };
}

describe('Statman defaults', () => {
  it('creates u32 counters that are not persistent and start at 0', () => {
    const registry = new Statman();
    expect(registry.capacity).toBe(1024);
    expect(registry.size).toBe(0);
    const handle = registry.create('eth0.arp.requests_rx');
    expect(handle.name).toBe('eth0.arp.requests_rx');
    expect(handle.type).toBe('u32');
    expect(handle.kind).toBe('counter');
    expect(handle.persistent).toBe(false);
    expect(handle.value).toBe(0);
    expect(handle.array).toBeInstanceOf(Uint32Array);
    expect(registry.size).toBe(1);
  });

  it('takes the capacity and the options it is given', () => {
    const registry = new Statman({ capacity: 3 });
    expect(registry.capacity).toBe(3);
    const handle = registry.create('kernel.heap.used', { type: 'f64', kind: 'gauge', persistent: true });
    expect(handle.type).toBe('f64');
    expect(handle.kind).toBe('gauge');
    expect(handle.persistent).toBe(true);
    expect(handle.array).toBeInstanceOf(Float64Array);
  });

  it('backs u64 stats with a Uint32Array of word pairs', () => {
    const handle = new Statman().create('eth0.nic.rx_bytes', { type: 'u64' });
    expect(handle.array).toBeInstanceOf(Uint32Array);
    expect(handle.index % 2).toBe(0);
  });
});

describe('u64Words', () => {
  it('counts a u64 stat inline with the carry, as increment() does, and refuses other types', () => {
    const registry = new Statman({ capacity: 4 });
    const stat = registry.create('eth0.ip.rx_packets', { type: 'u64' });
    const words = u64Words(stat);
    stat.value = twoTo32 - 1;
    const at = stat.index;
    if (++words[at]! === 0x100000000) words[at + 1]!++;
    expect(stat.value).toBe(twoTo32);
    expect(caught(() => u64Words(registry.create('eth0.ip.other', { type: 'u32' }))).code).toBe('stat-type-mismatch');
  });
});

describe('u32 stats', () => {
  it('increments, decrements gauges, sets and resets', () => {
    const registry = new Statman();
    const counter = registry.create('eth0.nic.rx_packets');
    counter.increment();
    counter.increment(41);
    expect(counter.value).toBe(42);
    counter.value = 7;
    expect(counter.value).toBe(7);
    counter.reset();
    expect(counter.value).toBe(0);

    const gauge = registry.create('eth0.tcp.connections', { kind: 'gauge' });
    gauge.increment(5);
    gauge.decrement();
    gauge.decrement(2);
    expect(gauge.value).toBe(2);
  });

  it('wraps modulo 2^32 like the C counter', () => {
    const registry = new Statman();
    const counter = registry.create('eth0.nic.rx_packets');
    counter.value = twoTo32 - 1;
    counter.increment();
    expect(counter.value).toBe(0);
    counter.increment(twoTo32 + 3);
    expect(counter.value).toBe(3);
    counter.value = -1;
    expect(counter.value).toBe(twoTo32 - 1);
    counter.value = twoTo32 + 7;
    expect(counter.value).toBe(7);

    const gauge = registry.create('eth0.tcp.connections', { kind: 'gauge' });
    gauge.decrement();
    expect(gauge.value).toBe(twoTo32 - 1);
    gauge.increment();
    expect(gauge.value).toBe(0);
  });

  it('serves the hottest path through array and index', () => {
    const registry = new Statman();
    const handle = registry.create('eth0.nic.rx_packets');
    handle.array[handle.index]!++;
    handle.array[handle.index]! += 2;
    expect(handle.value).toBe(3);
  });
});

describe('u64 stats', () => {
  it('increments, decrements gauges, sets and resets', () => {
    const registry = new Statman();
    const counter = registry.create('eth0.nic.rx_bytes', { type: 'u64' });
    counter.increment();
    counter.increment(1499);
    expect(counter.value).toBe(1500);
    counter.reset();
    expect(counter.value).toBe(0);
    expect(words(counter)).toEqual([0, 0]);

    const gauge = registry.create('eth0.nic.queued_bytes', { type: 'u64', kind: 'gauge' });
    gauge.increment(100);
    gauge.decrement(30);
    gauge.decrement();
    expect(gauge.value).toBe(69);
  });

  it('carries into the high word', () => {
    const counter = new Statman().create('eth0.nic.rx_bytes', { type: 'u64' });
    counter.value = twoTo32 - 1;
    expect(words(counter)).toEqual([twoTo32 - 1, 0]);
    counter.increment();
    expect(counter.value).toBe(twoTo32);
    expect(words(counter)).toEqual([0, 1]);
    counter.increment(2 ** 33 + 5);
    expect(counter.value).toBe(twoTo32 + 2 ** 33 + 5);
    expect(words(counter)).toEqual([5, 3]);
    // A carry from the low words while the addend has a high part too.
    counter.value = twoTo32 - 2;
    counter.increment(twoTo32 + 3);
    expect(counter.value).toBe(2 * twoTo32 + 1);
    expect(words(counter)).toEqual([1, 2]);
  });

  it('borrows from the high word when a gauge goes down, and wraps below zero', () => {
    const gauge = new Statman().create('eth0.nic.queued_bytes', { type: 'u64', kind: 'gauge' });
    gauge.value = twoTo32;
    gauge.decrement();
    expect(gauge.value).toBe(twoTo32 - 1);
    gauge.value = 3 * twoTo32 + 1;
    gauge.decrement(twoTo32 + 2);
    expect(gauge.value).toBe(2 * twoTo32 - 1);
    gauge.value = 0;
    gauge.decrement();
    expect(words(gauge)).toEqual([twoTo32 - 1, twoTo32 - 1]);
    gauge.increment();
    expect(gauge.value).toBe(0);
  });

  it('reads values exactly up to 2^53', () => {
    const counter = new Statman().create('eth0.nic.rx_bytes', { type: 'u64' });
    counter.value = twoTo53 - 1;
    expect(counter.value).toBe(Number.MAX_SAFE_INTEGER);
    counter.increment();
    expect(counter.value).toBe(twoTo53);
    counter.value = 1;
    counter.increment(twoTo53 - 1);
    expect(counter.value).toBe(twoTo53);
    for (const value of [twoTo53 - 12345, 2 ** 52 + 1, 123456789012345, twoTo32 * 0x1f_ffff + 0xffff_fffe]) {
      counter.value = value;
      expect(counter.value).toBe(value);
    }
    // Accumulated in small steps across a word boundary high up.
    counter.value = twoTo53 - 10;
    for (let step = 0; step < 5; step++) counter.increment(2);
    expect(counter.value).toBe(twoTo53);
  });
});

describe('f64 stats', () => {
  it('adds fractions, goes negative as a gauge, sets and resets', () => {
    const registry = new Statman();
    const counter = registry.create('kernel.cpu.busy_seconds', { type: 'f64' });
    counter.increment(0.5);
    counter.increment(0.25);
    counter.increment();
    expect(counter.value).toBe(1.75);
    for (let step = 0; step < 10; step++) counter.increment(0.1);
    expect(counter.value).toBeCloseTo(2.75, 12);
    counter.value = 1e300;
    expect(counter.value).toBe(1e300);
    counter.reset();
    expect(counter.value).toBe(0);

    const gauge = registry.create('kernel.clock.drift_ms', { type: 'f64', kind: 'gauge' });
    gauge.decrement(1.5);
    expect(gauge.value).toBe(-1.5);
    gauge.increment(0.25);
    expect(gauge.value).toBe(-1.25);
  });
});

describe('counters and gauges', () => {
  it.each<StatType>(['u32', 'u64', 'f64'])('a %s counter refuses decrement and keeps its value', (type) => {
    const counter = new Statman().create('eth0.nic.rx_packets', { type });
    counter.increment(3);
    const error = caught(() => counter.decrement());
    expect(error.code).toBe('stat-not-gauge');
    expect(error.message).toContain('"eth0.nic.rx_packets"');
    expect(error.message).toContain(`${type} counter`);
    expect(error.message).toContain('gauge');
    expect(counter.value).toBe(3);
  });

  it.each<StatType>(['u32', 'u64', 'f64'])('a %s gauge goes up and down', (type) => {
    const gauge = new Statman().create('eth0.tcp.connections', { type, kind: 'gauge' });
    gauge.increment(10);
    gauge.decrement(4);
    gauge.decrement();
    expect(gauge.value).toBe(5);
  });
});

describe('the registry', () => {
  it('gets and tells whether a stat exists', () => {
    const registry = new Statman();
    const handle = registry.create('eth0.arp.requests_rx');
    expect(registry.get('eth0.arp.requests_rx')).toBe(handle);
    expect(registry.has('eth0.arp.requests_rx')).toBe(true);
    expect(registry.get('eth0.arp.replies_tx')).toBeUndefined();
    expect(registry.has('eth0.arp.replies_tx')).toBe(false);
  });

  it('refuses to create a name twice', () => {
    const registry = new Statman();
    registry.create('eth0.arp.requests_rx', { type: 'u64', kind: 'gauge' });
    const error = caught(() => registry.create('eth0.arp.requests_rx', { type: 'u64', kind: 'gauge' }));
    expect(error.code).toBe('stat-exists');
    expect(error.message).toContain('"eth0.arp.requests_rx"');
    expect(error.message).toContain('u64 gauge');
    expect(registry.size).toBe(1);
  });

  it('getOrCreate creates once and then shares the handle', () => {
    const registry = new Statman();
    const first = registry.getOrCreate('eth0.nic.rx_bytes', { type: 'u64' });
    first.increment(9);
    const second = registry.getOrCreate('eth0.nic.rx_bytes', { type: 'u64', kind: 'counter' });
    expect(second).toBe(first);
    expect(second.value).toBe(9);
    expect(registry.size).toBe(1);
    // persistent is not part of the match: the first creator's flag stays.
    expect(registry.getOrCreate('eth0.nic.rx_bytes', { type: 'u64', persistent: true })).toBe(first);
    expect(first.persistent).toBe(false);
    expect(registry.getOrCreate('eth0.arp.requests_rx')).toBe(registry.getOrCreate('eth0.arp.requests_rx'));
  });

  it('getOrCreate names the stat and both types on a mismatch', () => {
    const registry = new Statman();
    registry.create('eth0.nic.rx_packets');
    const error = caught(() => registry.getOrCreate('eth0.nic.rx_packets', { type: 'u64', kind: 'gauge' }));
    expect(error.code).toBe('stat-type-mismatch');
    expect(error.message).toBe('stat "eth0.nic.rx_packets" exists as u32 counter, not u64 gauge');
    const kindError = caught(() => registry.getOrCreate('eth0.nic.rx_packets', { kind: 'gauge' }));
    expect(kindError.code).toBe('stat-type-mismatch');
    expect(kindError.message).toBe('stat "eth0.nic.rx_packets" exists as u32 counter, not u32 gauge');
    registry.create('eth0.nic.rx_bytes', { type: 'u64' });
    // No options means the defaults, which do not match a u64.
    expect(caught(() => registry.getOrCreate('eth0.nic.rx_bytes')).message).toBe(
      'stat "eth0.nic.rx_bytes" exists as u64 counter, not u32 counter',
    );
  });

  it('frees by name or handle, once', () => {
    const registry = new Statman();
    const byName = registry.create('eth0.arp.requests_rx');
    const byHandle = registry.create('eth0.arp.replies_tx');
    expect(registry.free('eth0.arp.requests_rx')).toBe(true);
    expect(registry.free(byHandle)).toBe(true);
    expect(registry.size).toBe(0);
    expect(registry.has(byName.name)).toBe(false);
    expect(registry.get(byHandle.name)).toBeUndefined();
    expect(registry.free('eth0.arp.requests_rx')).toBe(false);
    expect(registry.free(byHandle)).toBe(false);
    expect(registry.free('eth0.never.created')).toBe(false);
  });

  it('does not free through a stale handle or a handle of another registry', () => {
    const registry = new Statman();
    const stale = registry.create('eth0.arp.requests_rx');
    registry.free(stale);
    const current = registry.create('eth0.arp.requests_rx', { type: 'u64' });
    expect(registry.free(stale)).toBe(false);
    expect(registry.get('eth0.arp.requests_rx')).toBe(current);
    const other = new Statman().create('eth0.arp.requests_rx', { type: 'u64' });
    expect(registry.free(other)).toBe(false);
    expect(registry.has('eth0.arp.requests_rx')).toBe(true);
  });

  it('reuses a freed slot, which starts at 0', () => {
    const registry = new Statman();
    const first = registry.create('eth0.nic.rx_packets');
    const neighbour = registry.create('eth0.nic.tx_packets');
    first.increment(5);
    neighbour.increment(11);
    registry.free(first);
    expect(first.array[first.index]).toBe(0);
    // A stale write after the free (a bug in the producer) does not leak into the next stat of the slot.
    first.increment(99);
    const reused = registry.create('eth0.nic.rx_dropped');
    expect(reused.array).toBe(first.array);
    expect(reused.index).toBe(first.index);
    expect(reused.value).toBe(0);
    expect(neighbour.value).toBe(11);

    // The slot serves another type too, also from 0.
    reused.increment(3);
    registry.free(reused);
    const wide = registry.create('eth0.nic.rx_bytes', { type: 'u64' });
    expect(wide.index).toBe(first.index * 2);
    expect(wide.value).toBe(0);
    const again = registry.create('eth0.nic.rx_errors');
    expect(again.index).not.toBe(first.index);
  });

  it('keeps creation order in iteration and snapshots', () => {
    const registry = new Statman();
    registry.create('eth0.arp.requests_rx').increment(2);
    registry.create('eth0.arp.replies_tx', { type: 'u64', persistent: true }).increment(twoTo32 + 1);
    registry.create('kernel.clock.drift_ms', { type: 'f64', kind: 'gauge' }).decrement(0.5);
    registry.free('eth0.arp.replies_tx');
    registry.create('kernel.timers.fired', { type: 'u64' }).increment(2 ** 40);
    registry.create('eth0.arp.replies_tx', { kind: 'gauge' }).increment(4);

    expect([...registry]).toEqual([
      { name: 'eth0.arp.requests_rx', type: 'u32', kind: 'counter', persistent: false, value: 2 },
      { name: 'kernel.clock.drift_ms', type: 'f64', kind: 'gauge', persistent: false, value: -0.5 },
      { name: 'kernel.timers.fired', type: 'u64', kind: 'counter', persistent: false, value: 2 ** 40 },
      { name: 'eth0.arp.replies_tx', type: 'u32', kind: 'gauge', persistent: false, value: 4 },
    ]);
    const snapshot = registry.snapshot();
    expect(Object.entries(snapshot)).toEqual([
      ['eth0.arp.requests_rx', 2],
      ['kernel.clock.drift_ms', -0.5],
      ['kernel.timers.fired', 2 ** 40],
      ['eth0.arp.replies_tx', 4],
    ]);
    expect(registry.toJSON()).toEqual(snapshot);
    expect(JSON.parse(JSON.stringify(registry))).toEqual(snapshot);
    expect(JSON.stringify(registry)).toBe(JSON.stringify(snapshot));
    // Snapshots are copies.
    snapshot['eth0.arp.requests_rx'] = 100;
    expect(registry.get('eth0.arp.requests_rx')!.value).toBe(2);
  });

  it('persistent stats are stored and reported', () => {
    const registry = new Statman();
    registry.create('kernel.boot.count', { persistent: true });
    expect([...registry][0]!.persistent).toBe(true);
  });
});

describe('capacity', () => {
  it('refuses a stat beyond capacity, naming both, until one is freed', () => {
    const registry = new Statman({ capacity: 3 });
    registry.create('eth0.nic.rx_packets');
    registry.create('eth0.nic.tx_packets', { type: 'u64' });
    registry.create('eth0.nic.rx_dropped', { type: 'f64' });
    const error = caught(() => registry.create('eth0.nic.tx_dropped'));
    expect(error.code).toBe('statman-full');
    expect(error.message).toContain('capacity 3');
    expect(error.message).toContain('"eth0.nic.tx_dropped"');
    expect(caught(() => registry.getOrCreate('eth0.nic.tx_dropped')).code).toBe('statman-full');
    expect(registry.size).toBe(3);
    expect(registry.has('eth0.nic.tx_dropped')).toBe(false);

    expect(registry.free('eth0.nic.tx_packets')).toBe(true);
    const handle = registry.create('eth0.nic.tx_dropped', { type: 'u64' });
    handle.increment(twoTo32);
    expect(handle.value).toBe(twoTo32);
    expect(registry.size).toBe(3);
    expect(caught(() => registry.create('eth0.nic.rx_errors')).code).toBe('statman-full');
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 20 + 1])('refuses capacity %s', (capacity) => {
    const error = caught(() => new Statman({ capacity }));
    expect(error.code).toBe('statman-capacity-invalid');
    expect(error.message).toContain(String(capacity));
  });
});

describe('names', () => {
  it.each(['eth0.arp.requests_rx', 'kernel.timers.fired', 'a.b', 'A-Z.0_9', 'eth0.tcp.rto-backoffs', 'a.b.c.d.e.f', `${'x'.repeat(62)}.y`])(
    'accepts %s',
    (name) => {
      const registry = new Statman();
      expect(registry.create(name).name).toBe(name);
      expect(registry.has(name)).toBe(true);
    },
  );

  it.each<[string, unknown, string]>([
    ['empty', '', 'is empty'],
    ['one segment', 'eth0', 'has only one segment'],
    ['a trailing dot', 'eth0.', 'has an empty segment'],
    ['a leading dot', '.eth0', 'has an empty segment'],
    ['two dots', 'eth0..arp', 'has an empty segment'],
    ['a space', 'eth0.arp rx', 'has the character " "'],
    ['a slash', 'eth0.arp/rx', 'has the character "/"'],
    ['a non-ASCII letter', 'eth0.ärp', 'has the character "ä"'],
    ['65 characters', `${'x'.repeat(63)}.y`, 'is 65 characters long'],
    ['not a string', 42, 'is a number, not a string'],
    ['undefined', undefined, 'is undefined, not a string'],
    ['null', null, 'is null, not a string'],
  ])('refuses %s', (_label, name, reason) => {
    const registry = new Statman();
    for (const attempt of [() => registry.create(name as string), () => registry.getOrCreate(name as string)]) {
      const error = caught(attempt);
      expect(error.code).toBe('stat-name-invalid');
      expect(error.message).toContain(typeof name === 'string' ? `"${name}"` : String(name));
      expect(error.message).toContain(reason);
      expect(error.message).toContain('1..64 characters');
      expect(error.message).toContain('[A-Za-z0-9_-]');
    }
    expect(registry.size).toBe(0);
  });
});

describe('options', () => {
  it('refuses an unknown type or kind from untyped callers', () => {
    const registry = new Statman();
    const typeError = caught(() => registry.create('eth0.nic.rx_packets', { type: 'u16' as StatType }));
    expect(typeError.code).toBe('stat-options-invalid');
    expect(typeError.message).toContain('"eth0.nic.rx_packets"');
    expect(typeError.message).toContain('u16');
    const kindError = caught(() => registry.getOrCreate('eth0.nic.rx_packets', { kind: 'meter' as StatKind }));
    expect(kindError.code).toBe('stat-options-invalid');
    expect(kindError.message).toContain('meter');
    expect(registry.size).toBe(0);
  });
});

describe('StatmanError', () => {
  it('is a UosError with a stable code', () => {
    const codes: StatmanErrorCode[] = [];
    const registry = new Statman({ capacity: 1 });
    const handle = registry.create('eth0.nic.rx_packets');
    for (const action of [
      () => registry.create('bad'),
      () => registry.create('eth0.nic.rx_packets'),
      () => registry.getOrCreate('eth0.nic.rx_packets', { type: 'f64' }),
      () => registry.create('eth0.nic.tx_packets'),
      () => handle.decrement(),
      () => registry.create('eth0.nic.tx_packets', { type: 'i8' as StatType }),
      () => new Statman({ capacity: 0 }),
    ]) {
      const error = caught(action);
      expect(error).toBeInstanceOf(UosError);
      expect(error).toBeInstanceOf(Error);
      codes.push(error.code);
    }
    expect(codes).toEqual([
      'stat-name-invalid',
      'stat-exists',
      'stat-type-mismatch',
      'statman-full',
      'stat-not-gauge',
      'stat-options-invalid',
      'statman-capacity-invalid',
    ]);
  });
});

describe('the process-wide registry', () => {
  it('lives on globalThis under Symbol.for("uos.statman")', () => {
    expect((globalThis as unknown as Record<symbol, unknown>)[Symbol.for('uos.statman')]).toBe(statman);
    expect(statman).toBeInstanceOf(Statman);
    expect(statman.capacity).toBe(1024);
  });

  it('is shared by a second copy of the module', async () => {
    vi.resetModules();
    const copy = await import('./statman.js');
    expect(copy.Statman).not.toBe(Statman);
    expect(copy.statman).toBe(statman);
  });

  it('is independent of registries constructed later', () => {
    const own = new Statman();
    const handle = own.create('test.statman.independent');
    handle.increment();
    expect(statman.has('test.statman.independent')).toBe(false);
    const shared = statman.create('test.statman.independent', { type: 'u64' });
    try {
      shared.increment(5);
      expect(handle.value).toBe(1);
      expect(own.get('test.statman.independent')!.type).toBe('u32');
    } finally {
      statman.free(shared);
    }
  });
});

describe('many increments', () => {
  it('counts 1e6 increments through increment() and through array[index]++', () => {
    const registry = new Statman();
    const viaMethod = registry.create('test.loop.method');
    const viaArray = registry.create('test.loop.array');
    const wide = registry.create('test.loop.wide', { type: 'u64' });
    const double = registry.create('test.loop.double', { type: 'f64' });
    const neighbour = registry.create('test.loop.neighbour');
    const { array, index } = viaArray;
    for (let step = 0; step < 1e6; step++) {
      viaMethod.increment();
      array[index]!++;
      wide.increment();
      double.increment();
    }
    expect(viaMethod.value).toBe(1e6);
    expect(viaArray.value).toBe(1e6);
    expect(wide.value).toBe(1e6);
    expect(double.value).toBe(1e6);
    expect(neighbour.value).toBe(0);
  });
});

describe('a seeded random model', () => {
  interface ModelStat {
    type: StatType;
    kind: StatKind;
    persistent: boolean;
    /** u32 and u64 values as BigInt (wrapping exactly), f64 values as numbers. */
    value: bigint | number;
    handle: StatHandle;
  }

  const types: StatType[] = ['u32', 'u64', 'f64'];
  const kinds: StatKind[] = ['counter', 'gauge'];
  const names = [
    'eth0.arp.requests_rx',
    'eth0.arp.replies_tx',
    'eth0.nic.rx_bytes',
    'eth0.nic.tx_bytes',
    'eth1.ip4.rx_dropped',
    'eth1.udp.rx_packets',
    'kernel.timers.fired',
    'kernel.heap.used',
    'kernel.loop.passes',
    'kernel.irq.deferred',
    'eth1.tcp.connections',
    'eth0.tcp.retransmits',
  ];

  function wrap(type: StatType, value: bigint): bigint {
    return BigInt.asUintN(type === 'u32' ? 32 : 64, value);
  }

  function expected(stat: ModelStat): number {
    return Number(stat.value);
  }

  for (const seed of [1, 2, 3, 42, 2024]) {
    it(`matches a Map-based model (seed ${seed})`, () => {
      const random = createRandom(seed);
      const capacity = 8;
      const registry = new Statman({ capacity });
      const model = new Map<string, ModelStat>();
      const staleHandles: StatHandle[] = [];
      const operations = new Array<number>(10).fill(0);
      const outcomes = { full: 0, mismatch: 0, notGauge: 0, highWord: 0 };
      const pick = <T>(items: readonly T[]): T => items[random(items.length)]!;

      /**
       * An integer amount: mostly small, sometimes near a word boundary, sometimes large (up to 2^53 for
       * u64, 2^40 for u32, whose sum must stay below 2^53 to be exact).
       */
      const integerAmount = (type: StatType): number => {
        switch (random(4)) {
          case 0:
            return random(4);
          case 1:
            return random(1000);
          case 2:
            return twoTo32 - 2 + random(4);
          default:
            return random(type === 'u64' ? 2 ** 21 : 2 ** 8) * twoTo32 + random(twoTo32);
        }
      };
      const amountFor = (type: StatType): number => (type === 'f64' ? random(4000) / 4 : integerAmount(type));
      const valueFor = (type: StatType): number => {
        if (type === 'f64') return (random(8000) - 4000) / 8;
        const magnitude = integerAmount('u64');
        return random(5) === 0 ? -magnitude : magnitude;
      };

      const checkCreate = (name: string, type: StatType, kind: StatKind, persistent: boolean, shared: boolean): void => {
        const existing = model.get(name);
        const action = shared
          ? () => registry.getOrCreate(name, { type, kind, persistent })
          : () => registry.create(name, { type, kind, persistent });
        if (existing) {
          if (shared && existing.type === type && existing.kind === kind) {
            expect(action()).toBe(existing.handle);
          } else {
            expect(caught(action).code).toBe(shared ? 'stat-type-mismatch' : 'stat-exists');
            if (shared) outcomes.mismatch++;
          }
        } else if (model.size >= capacity) {
          expect(caught(action).code).toBe('statman-full');
          outcomes.full++;
        } else {
          const handle = action();
          expect(handle.value).toBe(0);
          model.set(name, { type, kind, persistent, value: type === 'f64' ? 0 : 0n, handle });
        }
      };

      for (let step = 0; step < 4000; step++) {
        const live = [...model.values()];
        const operation = random(10);
        const stat = live.length > 0 ? pick(live) : undefined;
        if (operation <= 1 || !stat) {
          checkCreate(pick(names), pick(types), pick(kinds), random(2) === 0, operation === 1);
        } else if (operation <= 3) {
          const by = random(3) === 0 ? undefined : amountFor(stat.type);
          stat.handle.increment(by);
          const amount = by ?? 1;
          stat.value = typeof stat.value === 'number' ? stat.value + amount : wrap(stat.type, stat.value + BigInt(amount));
        } else if (operation === 4) {
          const by = random(3) === 0 ? undefined : amountFor(stat.type);
          if (stat.kind === 'counter') {
            expect(caught(() => stat.handle.decrement(by)).code).toBe('stat-not-gauge');
            outcomes.notGauge++;
          } else {
            stat.handle.decrement(by);
            const amount = by ?? 1;
            stat.value = typeof stat.value === 'number' ? stat.value - amount : wrap(stat.type, stat.value - BigInt(amount));
          }
        } else if (operation === 5) {
          const value = valueFor(stat.type);
          stat.handle.value = value;
          stat.value = stat.type === 'f64' ? value : wrap(stat.type, BigInt(value));
        } else if (operation === 6) {
          stat.handle.reset();
          stat.value = stat.type === 'f64' ? 0 : 0n;
        } else if (operation === 7 && stat.type !== 'u64') {
          stat.handle.array[stat.handle.index]!++;
          stat.value = typeof stat.value === 'number' ? stat.value + 1 : wrap(stat.type, stat.value + 1n);
        } else if (operation === 8) {
          const name = random(2) === 0 ? pick(names) : stat.handle.name;
          const byHandle = random(2) === 0;
          const freed = registry.free(byHandle && model.has(name) ? model.get(name)!.handle : name);
          expect(freed).toBe(model.has(name));
          if (freed) {
            staleHandles.push(model.get(name)!.handle);
            model.delete(name);
          }
        } else if (operation === 9 && staleHandles.length > 0) {
          // Freeing through a stale handle never frees the stat that now owns the name.
          expect(registry.free(pick(staleHandles))).toBe(false);
        }

        if (stat?.type === 'u64' && stat.handle.array[stat.handle.index + 1] !== 0) outcomes.highWord++;
        // One comparison per step (expect is slow in a 4000-step loop): size, snapshot in order, handles.
        const actual = {
          size: registry.size,
          snapshot: Object.entries(registry.snapshot()),
          handles: [...model.keys()].map((name) => registry.get(name)),
        };
        const wanted = {
          size: model.size,
          snapshot: [...model].map(([name, modelStat]) => [name, expected(modelStat)]),
          handles: [...model.values()].map((modelStat) => modelStat.handle),
        };
        const same =
          actual.size === wanted.size &&
          JSON.stringify(actual.snapshot) === JSON.stringify(wanted.snapshot) &&
          actual.handles.every((handle, index) => handle === wanted.handles[index]);
        if (!same) expect({ step, ...actual }).toEqual({ step, ...wanted });
        operations[operation]!++;
      }
      // The run reached every operation and the interesting outcomes.
      expect(operations.every((count) => count > 0)).toBe(true);
      expect(outcomes.full).toBeGreaterThan(0);
      expect(outcomes.mismatch).toBeGreaterThan(0);
      expect(outcomes.notGauge).toBeGreaterThan(0);
      expect(outcomes.highWord).toBeGreaterThan(0);
      expect([...registry].map((entry) => [entry.name, entry.type, entry.kind, entry.persistent])).toEqual(
        [...model].map(([name, modelStat]) => [name, modelStat.type, modelStat.kind, modelStat.persistent]),
      );
    });
  }
});

describe('collectors', () => {
  it('run before snapshots and iteration, so stats counted elsewhere are current', () => {
    const registry = new Statman({ capacity: 8 });
    const gauge = registry.create('kernel.cpu.halted_cycles', { type: 'u64', kind: 'gauge' });
    let source = 5;
    const remove = registry.addCollector(() => {
      gauge.value = source;
    });
    expect(registry.snapshot()).toEqual({ 'kernel.cpu.halted_cycles': 5 });
    source = 2 ** 40;
    expect([...registry].map((e) => e.value)).toEqual([2 ** 40]);
    remove();
    source = 7;
    expect(registry.snapshot()['kernel.cpu.halted_cycles']).toBe(2 ** 40);
  });

  it('skip a collector that throws and still run the others', () => {
    const registry = new Statman({ capacity: 8 });
    const gauge = registry.create('kernel.loop.turns', { kind: 'gauge' });
    registry.addCollector(() => {
      throw new Error('device gone');
    });
    registry.addCollector(() => {
      gauge.value = 3;
    });
    expect(registry.snapshot()).toEqual({ 'kernel.loop.turns': 3 });
  });
});
