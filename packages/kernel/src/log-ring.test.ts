import { describe, expect, it } from 'vitest';
import { LogRing } from './log-ring.js';

describe('LogRing', () => {
  it('keeps whole lines, joining pieces written separately', () => {
    const ring = new LogRing(1024);
    ring.write('first li');
    ring.write('ne\nsecond\nthi');
    expect(ring.read()).toEqual(['first line', 'second', 'thi']);
    ring.write('rd\n');
    expect(ring.read()).toEqual(['first line', 'second', 'third']);
    expect(ring.text()).toBe('first line\nsecond\nthird');
  });

  it('drops the oldest lines once over its byte limit', () => {
    const ring = new LogRing(21);
    for (let i = 0; i < 10; i++) ring.write(`line ${i}\n`); // 7 bytes a line with its newline: 3 fit in 21
    expect(ring.read()).toEqual(['line 7', 'line 8', 'line 9']);
    ring.write('line 10\n');
    expect(ring.read()).toEqual(['line 9', 'line 10']);
  });

  it('keeps a line longer than the limit only until the next one arrives', () => {
    const ring = new LogRing(8);
    ring.write(`${'x'.repeat(30)}\nshort\n`);
    expect(ring.read()).toEqual(['short']);
  });

  it('stays bounded over a long run (the array is compacted, not only the view)', () => {
    const ring = new LogRing(100);
    for (let i = 0; i < 50000; i++) ring.write(`${i}\n`);
    const lines = ring.read();
    expect(lines[lines.length - 1]).toBe('49999');
    expect(ring.text().length).toBeLessThanOrEqual(100);
    expect((ring as unknown as { lines: string[] }).lines.length).toBeLessThan(3000);
  });

  it('lets go of trimmed lines at once: what it references is bounded by its limit, not by a line count', () => {
    // 300 statistics-sized lines through a 16 KiB ring: before, trimmed strings stayed referenced until
    // 1,024 of them had been trimmed (about 1.2 MB of text held for a 16 KiB view).
    const ring = new LogRing(16 * 1024);
    const line = 'kernel.heap.used_bytes '.padEnd(4000, '0');
    for (let i = 0; i < 300; i++) ring.write(`${line}\n`);
    const referenced = (ring as unknown as { lines: string[] }).lines.reduce((n, kept) => n + kept.length, 0);
    expect(referenced).toBeLessThanOrEqual(16 * 1024);
    expect(ring.read().length).toBe(4);
  });

  it('resizes down at once and clears', () => {
    const ring = new LogRing(1000);
    for (let i = 0; i < 10; i++) ring.write(`line ${i}\n`);
    ring.resize(14);
    expect(ring.capacity).toBe(14);
    expect(ring.read()).toEqual(['line 8', 'line 9']);
    ring.clear();
    expect(ring.read()).toEqual([]);
  });
});
