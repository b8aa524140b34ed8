/** Out-of-order data on the receive side, and the SACK blocks that report it (RFC 2018 §4). */
import { describe, expect, it } from 'vitest';
import { Assembler } from './assembler.js';

const bytes = (length: number, start: number) => Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);

describe('Assembler', () => {
  it('gives back held data once it follows RCV.NXT, trimming what was already received', () => {
    const assembler = new Assembler();
    assembler.insert(110, bytes(10, 110));
    assembler.insert(100, bytes(10, 100));
    expect(assembler.take(90)).toBeUndefined();
    expect([...assembler.take(105)!]).toEqual([...bytes(5, 105)]);
    expect([...assembler.take(110)!]).toEqual([...bytes(10, 110)]);
    expect(assembler.take(120)).toBeUndefined();
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
});
