/** TIME-WAIT as a table of small records: answers, expiry in order, restarts, recycling and the memory budget. */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock.js';
import { MemoryBudget } from '../../memory.js';
import { ipv4Address } from '../../wire/address.js';
import { TcpFlag, type TcpRepr, type TcpSegment } from '../../wire/tcp.js';
import { TIME_WAIT_BYTES, TimeWaitTable } from './time-wait.js';

const LOCAL = ipv4Address('10.0.0.1');
const REMOTE = ipv4Address('10.0.0.2');

function table(maxEntries = 16, budget?: MemoryBudget) {
  const clock = new VirtualClock();
  const sent: TcpRepr[] = [];
  const counts = { recycled: 0, size: 0 };
  const memory = budget?.account();
  const t = new TimeWaitTable(
    {
      clock,
      send: (_record, repr) => sent.push(repr),
      recycled: () => counts.recycled++,
      sizeChanged: (size) => {
        counts.size = size;
      },
      ...(memory ? { memory } : {}),
    },
    maxEntries,
  );
  const add = (port: number, durationMs = 60_000, timestamps = false) =>
    t.add({
      localAddress: LOCAL,
      localPort: 80,
      remoteAddress: REMOTE,
      remotePort: port,
      sendNext: 1000,
      receiveNext: 5000,
      window: 512,
      tsRecent: 777,
      timestamps,
      durationMs,
    });
  return { clock, sent, counts, table: t, add, memory };
}

const segment = (fields: Partial<TcpSegment>): TcpSegment => ({
  sourcePort: 40000,
  destinationPort: 80,
  sequence: 4999,
  acknowledgment: 1000,
  flags: TcpFlag.ack,
  window: 1000,
  payload: new Uint8Array(0),
  ...fields,
});

describe('TimeWaitTable', () => {
  it('keeps a record for its time, acknowledges a repeated FIN and waits again from then, ignores RST and stray ACKs', () => {
    const { clock, sent, table: t, add } = table();
    const record = add(40000, 10_000)!;
    expect(t.get(LOCAL, 80, REMOTE, 40000)).toBe(record);
    expect(t.receive(record, segment({ flags: TcpFlag.rst }))).toBe('done');
    expect(t.receive(record, segment({}))).toBe('done');
    expect(sent).toEqual([]);
    clock.advance(9_000);
    expect(t.receive(record, segment({ flags: TcpFlag.fin | TcpFlag.ack }))).toBe('done');
    expect(sent).toEqual([
      { sourcePort: 80, destinationPort: 40000, sequence: 1000, acknowledgment: 5000, flags: TcpFlag.ack, window: 512 },
    ]);
    clock.advance(9_999);
    expect(record.ended).toBe(false);
    clock.advance(1);
    expect(record.ended).toBe(true);
    expect(t.size).toBe(0);
  });

  it('lets a newer SYN take the endpoints (RFC 6191): by sequence number, or by timestamp when both use them', () => {
    const { table: t, add } = table();
    const old = add(40000)!;
    expect(t.receive(old, segment({ flags: TcpFlag.syn, sequence: 4000 }))).toBe('done');
    expect(t.receive(old, segment({ flags: TcpFlag.syn, sequence: 6000 }))).toBe('reopen');
    expect(old.ended).toBe(true);
    const stamped = add(40001, 60_000, true)!;
    expect(t.receive(stamped, segment({ flags: TcpFlag.syn, sequence: 10, timestamps: { value: 700, echo: 0 } }))).toBe('done');
    expect(t.receive(stamped, segment({ flags: TcpFlag.syn, sequence: 10, timestamps: { value: 900, echo: 0 } }))).toBe('reopen');
  });

  it('ends records in the order they began, with one clock timer, a restarted one after the others', () => {
    const { clock, table: t, add } = table();
    const a = add(1, 1000)!;
    clock.advance(100);
    const b = add(2, 1000)!;
    clock.advance(100);
    const c = add(3, 1000)!;
    expect(clock.pendingTimers).toBe(1);
    clock.advance(500);
    t.receive(a, segment({ flags: TcpFlag.fin | TcpFlag.ack, sourcePort: 1 })); // a now ends at 1700
    clock.advance(400); // 1100: a's first time has come and gone
    expect([a.ended, b.ended, c.ended]).toEqual([false, true, false]);
    clock.advance(100); // 1200
    expect([a.ended, c.ended]).toEqual([false, true]);
    clock.advance(500); // 1700
    expect(a.ended).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('recycles the oldest records past its bound, and counts them', () => {
    const { table: t, add, counts } = table(10);
    const records = [];
    for (let port = 1; port <= 25; port++) records.push(add(port)!);
    expect(t.size).toBe(10);
    expect(counts.size).toBe(10);
    expect(counts.recycled).toBe(15);
    expect(records.slice(0, 15).every((r) => r.ended)).toBe(true);
    expect(records.slice(15).every((r) => !r.ended)).toBe(true);
  });

  it('charges each record to the memory budget, recycles the oldest when it cannot pay, and gives everything back', () => {
    const budget = new MemoryBudget({ budgetBytes: 64 * 1024 });
    const { clock, table: t, add, counts, memory } = table(1000, budget);
    budget.account().charge(64 * 1024 - 10 * TIME_WAIT_BYTES); // room for ten records
    for (let port = 1; port <= 30; port++) expect(add(port)).toBeDefined();
    expect(t.size).toBe(10);
    expect(counts.recycled).toBe(20);
    expect(memory!.bytes).toBe(10 * TIME_WAIT_BYTES);
    clock.advance(60_000);
    expect(t.size).toBe(0);
    expect(memory!.bytes).toBe(0);
  });
});
