/** TCP connections by endpoints. */
import { describe, expect, it } from 'vitest';
import { type IpAddress, type Ipv6Address, ipv4Address } from '../../wire/address.js';
import { type Endpoints, ConnectionTable } from './connection-table.js';

const A = ipv4Address('10.0.0.1');
const B = ipv4Address('10.0.0.2');
const at = (localAddress: IpAddress, localPort: number, remoteAddress: IpAddress, remotePort: number): Endpoints => ({
  localAddress,
  localPort,
  remoteAddress,
  remotePort,
});

describe('ConnectionTable', () => {
  it('finds a connection by its four endpoints, local address included', () => {
    const table = new ConnectionTable<Endpoints>();
    const c = at(A, 80, B, 40000);
    expect(table.add(c)).toBe(true);
    expect(table.get(A, 80, B, 40000)).toBe(c);
    expect(table.get(ipv4Address('10.0.0.3'), 80, B, 40000)).toBeUndefined();
    expect(table.get(A, 80, B, 40001)).toBeUndefined();
    expect(table.get(A, 81, B, 40000)).toBeUndefined();
  });

  it('tells many connections to one remote endpoint apart by their local ports', () => {
    const table = new ConnectionTable<Endpoints>();
    const all = Array.from({ length: 100 }, (_, i) => at(A, 50000 + i, B, 80));
    for (const c of all) table.add(c);
    expect(table.size).toBe(100);
    expect(table.get(A, 50042, B, 80)).toBe(all[42]);
    expect(table.holds(50042, B, 80)).toBe(true);
    expect(table.add(at(A, 50042, B, 80))).toBe(false);
    expect([...table.values()]).toHaveLength(100);
  });

  it('removes only the connection it holds', () => {
    const table = new ConnectionTable<Endpoints>();
    const c = at(A, 80, B, 40000);
    table.add(c);
    expect(table.delete(at(A, 80, B, 40000))).toBe(false);
    expect(table.delete(c)).toBe(true);
    expect(table.size).toBe(0);
    expect(table.get(A, 80, B, 40000)).toBeUndefined();
  });

  it('keys an IPv6 address by identity (interned addresses)', () => {
    const table = new ConnectionTable<Endpoints>();
    const local: Ipv6Address = { version: 6, bytes: new Uint8Array(16).fill(1) };
    const remote: Ipv6Address = { version: 6, bytes: new Uint8Array(16).fill(2) };
    const c = at(local, 443, remote, 50000);
    table.add(c);
    expect(table.get(local, 443, remote, 50000)).toBe(c);
  });
});
