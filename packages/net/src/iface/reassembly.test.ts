/**
 * IPv4 reassembly on its own: order, overlaps (RFC 5722), duplicates, the memory bound in bytes, the
 * per-source share, eviction of the oldest, and the timeout.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock.js';
import { ipv4FromNumber } from '../wire/address.js';
import { DATAGRAM_OVERHEAD_BYTES, FRAGMENT_OVERHEAD_BYTES, type ReassemblyLimits, Reassembler } from './reassembly.js';

const SOURCE = ipv4FromNumber(0x0a000001);
const DESTINATION = ipv4FromNumber(0x0a000002);
const UDP = 17;

function setup(limits: ReassemblyLimits = {}) {
  const clock = new VirtualClock();
  const events = { timeouts: 0, evicted: 0 };
  const reassembler = new Reassembler(clock, limits, {
    timeout: () => events.timeouts++,
    evicted: () => events.evicted++,
  });
  return { clock, events, reassembler };
}

const bytes = (length: number, seed: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);

/** Splits `datagram` into fragments of `size` bytes (a multiple of 8). */
function fragments(datagram: Uint8Array, size: number): { offset: number; more: boolean; data: Uint8Array }[] {
  const out = [];
  for (let offset = 0; offset < datagram.length; offset += size) {
    out.push({ offset, more: offset + size < datagram.length, data: datagram.subarray(offset, offset + size) });
  }
  return out;
}

describe('Reassembler', () => {
  it('reassembles fragments in any order, each datagram apart', () => {
    const { reassembler } = setup();
    const datagram = bytes(3000, 1);
    const parts = fragments(datagram, 1480).reverse();
    const outcomes = parts.map((p) => reassembler.add(SOURCE, DESTINATION, UDP, 7, p.offset, p.more, p.data));
    expect(outcomes.slice(0, -1).every((o) => o.kind === 'waiting')).toBe(true);
    const last = outcomes[outcomes.length - 1]!;
    expect(last.kind === 'complete' && last.payload).toEqual(datagram);
    expect(reassembler.pending).toBe(0);
    expect(reassembler.bytes).toBe(0);
  });

  it('drops a datagram whose fragments overlap, whichever comes first (RFC 5722)', () => {
    const { reassembler } = setup();
    // A UDP header to port 53 in the first fragment, then a fragment that would rewrite it to port 7.
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 1, 0, true, bytes(16, 1)).kind).toBe('waiting');
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 1, 8, true, bytes(16, 2))).toEqual({ kind: 'dropped', reason: 'overlap' });
    expect(reassembler.pending).toBe(0);
    expect(reassembler.bytes).toBe(0);
    // The rest of it alone does not complete anything.
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 1, 24, false, bytes(8, 3)).kind).toBe('waiting');
    // Overlap from below, and a last fragment inside a held one.
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 2, 8, true, bytes(16, 1)).kind).toBe('waiting');
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 2, 0, true, bytes(16, 2))).toEqual({ kind: 'dropped', reason: 'overlap' });
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 3, 0, true, bytes(32, 1)).kind).toBe('waiting');
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 3, 16, false, bytes(8, 2))).toEqual({ kind: 'dropped', reason: 'overlap' });
  });

  it('ignores an exact duplicate fragment and still completes', () => {
    const { reassembler } = setup();
    const datagram = bytes(40, 4);
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 9, 0, true, datagram.subarray(0, 16)).kind).toBe('waiting');
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 9, 0, true, datagram.subarray(0, 16)).kind).toBe('duplicate');
    const done = reassembler.add(SOURCE, DESTINATION, UDP, 9, 16, false, datagram.subarray(16));
    expect(done.kind === 'complete' && done.payload).toEqual(datagram);
  });

  it('drops inconsistent ends: two different last fragments, data past the end, a short middle fragment', () => {
    const { reassembler } = setup();
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 1, 16, false, bytes(8, 1)).kind).toBe('waiting');
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 1, 32, false, bytes(8, 1))).toEqual({ kind: 'dropped', reason: 'invalid' });
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 2, 16, true, bytes(16, 1)).kind).toBe('waiting');
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 2, 8, false, bytes(8, 1))).toEqual({ kind: 'dropped', reason: 'invalid' });
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 3, 0, true, bytes(12, 1))).toEqual({ kind: 'dropped', reason: 'invalid' });
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 4, 65520, false, bytes(8, 1))).toEqual({ kind: 'dropped', reason: 'invalid' });
  });

  it('charges memory in bytes and never holds more than its bound, however small the fragments', () => {
    const { reassembler, events } = setup({ maxBytes: 16 * 1024 });
    for (let i = 0; i < 5000; i++) {
      // Spoofed sources, one tiny first fragment each: what slots would run out of at once.
      reassembler.add(ipv4FromNumber(0x0b000000 + i), DESTINATION, UDP, i & 0xffff, 0, true, bytes(8, i));
      expect(reassembler.bytes).toBeLessThanOrEqual(16 * 1024);
    }
    const each = 8 + FRAGMENT_OVERHEAD_BYTES + DATAGRAM_OVERHEAD_BYTES;
    expect(reassembler.pending).toBe(Math.floor((16 * 1024) / each));
    expect(events.evicted).toBe(5000 - reassembler.pending);
    // A datagram whose fragments arrive together still completes: it is the newest, the oldest make room.
    const datagram = bytes(3000, 5);
    let outcome: ReturnType<Reassembler['add']> = { kind: 'waiting' };
    for (const p of fragments(datagram, 1480)) outcome = reassembler.add(SOURCE, DESTINATION, UDP, 77, p.offset, p.more, p.data);
    expect(outcome.kind === 'complete' && outcome.payload).toEqual(datagram);
  });

  it('keeps one source within its share, evicting its own oldest first', () => {
    const { reassembler } = setup({ maxBytes: 64 * 1024, maxBytesPerSource: 8 * 1024 });
    const other = ipv4FromNumber(0x0a000063);
    // Another source's datagram in progress.
    expect(reassembler.add(other, DESTINATION, UDP, 1, 0, true, bytes(1480, 1)).kind).toBe('waiting');
    // One source floods junk first fragments: it stays within its share and the other's datagram stays.
    for (let i = 0; i < 1000; i++) reassembler.add(SOURCE, DESTINATION, UDP, i, 0, true, bytes(512, i));
    expect(reassembler.bytes).toBeLessThanOrEqual(8 * 1024 + 1480 + FRAGMENT_OVERHEAD_BYTES + DATAGRAM_OVERHEAD_BYTES);
    const done = reassembler.add(other, DESTINATION, UDP, 1, 1480, false, bytes(20, 2));
    expect(done.kind).toBe('complete');
    // And a datagram from the flooding source itself still completes when its fragments come together.
    const datagram = bytes(3000, 6);
    let outcome: ReturnType<Reassembler['add']> = { kind: 'waiting' };
    for (const p of fragments(datagram, 1480)) outcome = reassembler.add(SOURCE, DESTINATION, 1, 5000, p.offset, p.more, p.data);
    expect(outcome.kind === 'complete' && outcome.payload).toEqual(datagram);
  });

  it('refuses a datagram larger than a source may hold, and a fragment count past its bound', () => {
    const { reassembler } = setup({ maxBytes: 8 * 1024, maxFragments: 4 });
    let outcome: ReturnType<Reassembler['add']> = { kind: 'waiting' };
    for (let offset = 0; offset < 8 * 1024 && outcome.kind === 'waiting'; offset += 1480)
      outcome = reassembler.add(SOURCE, DESTINATION, UDP, 1, offset, true, bytes(1480, 1));
    expect(outcome).toEqual({ kind: 'dropped', reason: 'limit' }); // half of 8 KiB per source
    for (let i = 0; i < 4; i++) reassembler.add(SOURCE, DESTINATION, UDP, 2, i * 8, true, bytes(8, i));
    expect(reassembler.add(SOURCE, DESTINATION, UDP, 2, 32, false, bytes(8, 4))).toEqual({ kind: 'dropped', reason: 'invalid' });
    expect(reassembler.bytes).toBe(0);
  });

  it('times datagrams out in order with one timer', () => {
    const { clock, reassembler, events } = setup({ timeoutMs: 1000 });
    reassembler.add(SOURCE, DESTINATION, UDP, 1, 0, true, bytes(8, 1));
    clock.advance(500);
    reassembler.add(SOURCE, DESTINATION, UDP, 2, 0, true, bytes(8, 1));
    expect(clock.pendingTimers).toBe(1);
    clock.advance(500);
    expect(reassembler.pending).toBe(1);
    expect(events.timeouts).toBe(1);
    clock.advance(500);
    expect(reassembler.pending).toBe(0);
    expect(events.timeouts).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });
});
