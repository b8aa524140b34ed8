/** Out-of-order data on the receive side, and the SACK blocks that report it (RFC 2018 §4). */
import { describe, expect, it } from 'vitest';
import { Assembler, MAX_RANGES, RANGE_OVERHEAD_BYTES } from './assembler.js';

const bytes = (length: number, start: number) => Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);

describe('Assembler', () => {
  it('gives back held data once it follows RCV.NXT, trimming what was already received', () => {
    const assembler = new Assembler();
    assembler.insert(110, bytes(10, 110));
    assembler.insert(100, bytes(10, 100)); // adjacent: one range
    assembler.insert(130, bytes(10, 130));
    expect(assembler.count).toBe(2);
    expect(assembler.take(90)).toBeUndefined();
    expect([...assembler.take(105)!]).toEqual([...bytes(15, 105)]);
    expect(assembler.take(120)).toBeUndefined();
    expect([...assembler.take(130)!]).toEqual([...bytes(10, 130)]);
    expect(assembler.take(140)).toBeUndefined();
    expect(assembler.count).toBe(0);
    expect(assembler.bytes).toBe(0);
  });

  it('drops segments wholly below RCV.NXT, and keeps nothing twice', () => {
    const assembler = new Assembler();
    assembler.insert(200, bytes(10, 0));
    assembler.insert(202, bytes(4, 0));
    expect(assembler.count).toBe(1);
    expect(assembler.take(300)).toBeUndefined();
    expect(assembler.count).toBe(0);
  });

  it('reports merged blocks with the most recent arrival first, at most as many as fit', () => {
    const assembler = new Assembler();
    assembler.insert(100, bytes(10, 0));
    assembler.insert(110, bytes(10, 0));
    assembler.insert(300, bytes(10, 0));
    assembler.insert(200, bytes(10, 0));
    expect(assembler.sackBlocks(4)).toEqual([
      [200, 210],
      [100, 120],
      [300, 310],
    ]);
    expect(assembler.sackBlocks(2)).toEqual([
      [200, 210],
      [100, 120],
    ]);
  });

  it('works across the wrap of sequence space', () => {
    const assembler = new Assembler();
    assembler.insert(0xfffffff8, bytes(16, 0));
    expect(assembler.sackBlocks(3)).toEqual([[0xfffffff8, 8]]);
    expect(assembler.take(0xfffffff8)!.length).toBe(16);
  });

  it('merges what touches or overlaps into one range, and held bytes win over a segment that overlaps them', () => {
    const assembler = new Assembler();
    assembler.insert(100, bytes(10, 100));
    assembler.insert(120, bytes(10, 120));
    assembler.insert(140, bytes(10, 140));
    expect(assembler.count).toBe(3);
    // One segment across all three, carrying other bytes where they are held.
    expect(assembler.insert(95, new Uint8Array(60).fill(0xee))).toBe('held');
    expect(assembler.count).toBe(1);
    expect(assembler.bytes).toBe(60);
    const all = assembler.take(95)!;
    expect(all.length).toBe(60);
    expect([...all.subarray(5, 15)]).toEqual([...bytes(10, 100)]);
    expect([...all.subarray(25, 35)]).toEqual([...bytes(10, 120)]);
    expect(all[0]).toBe(0xee);
    expect(all[20]).toBe(0xee);
  });

  it('extends a range in place for in-order arrivals after a hole: 2,000 one-byte segments, one range', () => {
    const assembler = new Assembler();
    for (let i = 1; i <= 2000; i++) expect(assembler.insert(1000 + i, bytes(1, i))).toBe('held');
    expect(assembler.count).toBe(1);
    expect(assembler.bytes).toBe(2000);
    expect(assembler.insert(1500, bytes(1, 0))).toBe('duplicate');
    expect([...assembler.take(1001)!]).toEqual([...bytes(2000, 1)]);
  });

  it('holds at most MAX_RANGES ranges, giving up the highest first, or the new segment when it is the highest', () => {
    const dropped = {
      value: 0,
      increment() {
        this.value++;
      },
    };
    const assembler = new Assembler(1 << 20, dropped);
    for (let i = 0; i < 1000; i++) assembler.insert(1000 + 2 * i, bytes(1, i));
    expect(assembler.count).toBe(MAX_RANGES);
    expect(dropped.value).toBe(1000 - MAX_RANGES);
    // The lowest were kept: they are the next to be delivered.
    expect(assembler.sackBlocks(4)[0]).toEqual([1000, 1001]);
    // A segment below them all takes the place of the highest.
    expect(assembler.insert(990, bytes(1, 0))).toBe('held');
    expect(assembler.count).toBe(MAX_RANGES);
    expect(dropped.value).toBe(1000 - MAX_RANGES + 1);
  });

  it('keeps bytes and per-range overhead within its budget', () => {
    const budget = 10 * 1024;
    const assembler = new Assembler(budget);
    for (let i = 0; i < 100; i++) assembler.insert(5000 + 200 * i, bytes(100, i));
    expect(assembler.charged).toBeLessThanOrEqual(budget);
    expect(assembler.count).toBe(Math.floor(budget / (100 + RANGE_OVERHEAD_BYTES)));
    // A whole-window segment in one range costs one overhead.
    const big = new Assembler(budget);
    expect(big.insert(0, new Uint8Array(budget - RANGE_OVERHEAD_BYTES))).toBe('held');
    expect(big.insert(1 << 20, bytes(1, 0))).toBe('dropped');
  });
});
