/** The memory budget: limit and pressure, the receive allowance, waiters; and what IP reassembly and ARP charge to it. */
import { Statman } from '@uos/statman';
import { describe, expect, it } from 'vitest';
import type { Inet } from './iface/inet.js';
import { MemoryBudget } from './memory.js';
import { layerStats, statScope } from './stat-names.js';
import { ipProtocolOf } from './wire/ipv4.js';
import { ipv4Address, macFromBytes } from './wire/address.js';
import { createTestNetwork, ipFragmentFrame } from './test/index.js';

describe('MemoryBudget', () => {
  it('grants up to its limit, is under pressure from its pressure mark, and reports both', () => {
    const statman = new Statman();
    const budget = new MemoryBudget({ budgetBytes: 100 * 1024 });
    budget.attach(layerStats(statScope('m0', statman), 'memory'));
    const account = budget.account();
    expect(account.reserve(70 * 1024)).toBe(true);
    expect(budget.underPressure).toBe(false);
    expect(budget.receiveAllowance).toBe(Number.POSITIVE_INFINITY);
    expect(account.reserve(10 * 1024)).toBe(true);
    expect(budget.underPressure).toBe(true);
    expect(budget.receiveAllowance).toBe(4 * 1460);
    expect(account.reserve(30 * 1024)).toBe(false);
    account.charge(20 * 1024); // what must be kept is charged anyway
    expect(budget.receiveAllowance).toBe(0);
    account.release(40 * 1024);
    expect(budget.underPressure).toBe(false);
    expect(budget.receiveAllowance).toBe(Number.POSITIVE_INFINITY);
    const stats = statman.snapshot();
    expect(stats['m0.memory.budget_bytes']).toBe(100 * 1024);
    expect(stats['m0.memory.used_bytes']).toBe(60 * 1024);
    expect(stats['m0.memory.peak_bytes']).toBe(100 * 1024);
    expect(stats['m0.memory.pressure_entered']).toBe(1);
    expect(stats['m0.memory.refused']).toBe(1);
  });

  it('wakes its waiters once, when a release leaves 32 KiB free', () => {
    const budget = new MemoryBudget({ budgetBytes: 64 * 1024 });
    const account = budget.account();
    account.charge(60 * 1024);
    let woken = 0;
    budget.whenRoom(() => woken++);
    account.release(10 * 1024);
    expect(woken).toBe(0);
    account.release(20 * 1024);
    expect(woken).toBe(1);
    account.release(10 * 1024);
    expect(woken).toBe(1);
  });
});

describe('what the layers below TCP charge', () => {
  it('charges fragments held for reassembly and gives them back; a short budget evicts the oldest datagrams', () => {
    const net = createTestNetwork({ inet: { memory: { budgetBytes: 256 * 1024 } } });
    const addresses = { sourceMac: macFromBytes(net.wire[0].mac), destinationMac: net.b.link.mac, destination: ipv4Address('10.0.0.2') };
    const base = net.b.memory.used;
    const fragment = (source: string, id: number) =>
      net.wire[0].transmit(
        ipFragmentFrame(
          { ...addresses, source: ipv4Address(source) },
          { protocol: ipProtocolOf(17), identification: id, offset: 0, moreFragments: true },
          new Uint8Array(1024),
        ),
      );
    fragment('10.0.0.1', 1);
    net.clock.advance(5);
    expect(net.b.memory.used).toBeGreaterThan(base + 1024);
    net.clock.advance(31_000); // timed out
    expect(net.b.memory.used).toBe(base);
    // The budget nearly full: junk first fragments from many sources keep within it.
    const other = net.b.memory.account();
    other.charge(net.b.memory.free - 8 * 1024);
    for (let i = 0; i < 50; i++) fragment(`10.0.0.${100 + i}`, i);
    net.clock.advance(5);
    expect(net.b.memory.used).toBeLessThanOrEqual(net.b.memory.limitBytes);
    expect(net.b.ip.stats.reassembly_evicted.value).toBeGreaterThan(0);
  });

  it('charges frames waiting for ARP, and drops them when the budget cannot pay', () => {
    const net = createTestNetwork({ inet: { memory: { budgetBytes: 256 * 1024 } } });
    const inet: Inet = net.a;
    const base = inet.memory.used;
    // Nobody answers for 10.0.0.9: the datagram waits for ARP.
    const socket = inet.udp.bind(0);
    if (!socket.ok) throw new Error(socket.error);
    expect(socket.socket.send(ipv4Address('10.0.0.9'), 9, new Uint8Array(1000)).ok).toBe(true);
    expect(inet.memory.used).toBeGreaterThan(base + 1000);
    const other = inet.memory.account();
    other.charge(inet.memory.free);
    expect(socket.socket.send(ipv4Address('10.0.0.9'), 9, new Uint8Array(1000)).ok).toBe(false);
    expect(inet.arp.stats.queue_dropped.value).toBe(1);
    other.release(other.bytes);
    net.clock.advance(5_000); // resolution given up: the queued frame goes, and its charge
    expect(inet.memory.used).toBe(base);
  });
});
