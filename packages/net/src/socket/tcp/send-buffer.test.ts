/**
 * The send buffer as a list of chunks: against a plain byte array as the model (writes of every size,
 * acknowledgments, copies from anywhere), its memory charges, and what it keeps of the caller's arrays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryBudget } from '../../memory.js';
import { CHUNK_OVERHEAD_BYTES, SendBuffer } from './send-buffer.js';

const bytes = (length: number, seed: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);

type Step = { kind: 'write'; length: number } | { kind: 'release'; share: number } | { kind: 'copy'; start: number; share: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), length: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 9000 })) }),
  fc.record({ kind: fc.constant('release' as const), share: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('copy' as const),
    start: fc.double({ min: 0, max: 1, noNaN: true }),
    share: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
);

describe('SendBuffer', () => {
  it('holds exactly what was written and not released, copies any range of it, and charges only what it holds', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
        const budget = new MemoryBudget({ budgetBytes: 64 * 1024 * 1024 });
        const account = budget.account();
        const buffer = new SendBuffer(64 * 1024, account);
        let model: number[] = [];
        let seed = 0;
        for (const s of steps) {
          if (s.kind === 'write') {
            const data = bytes(s.length, seed++);
            const taken = buffer.write(data);
            expect(taken).toBe(Math.min(s.length, 64 * 1024 - model.length));
            model = model.concat([...data.subarray(0, taken)]);
          } else if (s.kind === 'release') {
            const n = Math.floor(model.length * s.share);
            buffer.release(n);
            model = model.slice(n);
          } else if (model.length) {
            const start = Math.floor((model.length - 1) * s.start);
            const length = Math.max(1, Math.floor((model.length - start) * s.share));
            const target = new Uint8Array(length + 4).fill(0xa5);
            buffer.copy(start, length, target, 2);
            expect([...target.subarray(2, 2 + length)]).toEqual(model.slice(start, start + length));
            expect([target[0], target[1], target[length + 2], target[length + 3]]).toEqual([0xa5, 0xa5, 0xa5, 0xa5]);
          }
          expect(buffer.length).toBe(model.length);
          expect(account.bytes).toBe(buffer.charged);
          expect(budget.used).toBe(account.bytes);
        }
        buffer.release(buffer.length);
        expect(account.bytes).toBe(0);
        expect(budget.used).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a large write without copying it, and copies a run of small writes together', () => {
    const buffer = new SendBuffer(64 * 1024);
    const large = bytes(4000, 1);
    buffer.write(large);
    large[0] = 99; // the caller broke the contract: the buffer holds its array, so the change shows
    const out = new Uint8Array(1);
    buffer.copy(0, 1, out, 0);
    expect(out[0]).toBe(99);
    // 100 writes of 10 bytes: one buffer of ours, not 100 arrays.
    const small = new SendBuffer(64 * 1024, new MemoryBudget({ budgetBytes: 1 << 20 }).account());
    for (let i = 0; i < 100; i++) small.write(bytes(10, i));
    expect(small.charged).toBeLessThan(1000 + 2048 + 2 * CHUNK_OVERHEAD_BYTES);
    const all = new Uint8Array(1000);
    small.copy(0, 1000, all, 0);
    for (let i = 0; i < 100; i++) expect([...all.subarray(i * 10, i * 10 + 10)]).toEqual([...bytes(10, i)]);
  });

  it('gives everything back when all is acknowledged, and holds nothing before the first write', () => {
    const budget = new MemoryBudget({ budgetBytes: 1 << 20 });
    const buffer = new SendBuffer(64 * 1024, budget.account());
    expect(buffer.charged).toBe(0);
    buffer.write(bytes(3000, 1));
    buffer.write(bytes(20, 2));
    buffer.write(bytes(30, 3));
    expect(budget.used).toBeGreaterThan(3050);
    buffer.release(1000);
    buffer.release(2050);
    expect(buffer.length).toBe(0);
    expect(budget.used).toBe(0);
  });

  it('takes only what the budget can pay for, and reports no room when it cannot', () => {
    const budget = new MemoryBudget({ budgetBytes: 64 * 1024 });
    const other = budget.account();
    other.charge(60 * 1024);
    const buffer = new SendBuffer(64 * 1024, budget.account());
    expect(buffer.free).toBe(4 * 1024 - CHUNK_OVERHEAD_BYTES);
    expect(buffer.write(bytes(8 * 1024, 1))).toBe(4 * 1024 - CHUNK_OVERHEAD_BYTES);
    expect(buffer.free).toBe(0);
    expect(buffer.write(bytes(8 * 1024, 1))).toBe(0);
    other.release(60 * 1024);
    expect(buffer.write(bytes(8 * 1024, 1))).toBe(8 * 1024);
  });
});
