/** The IPv4 routing table: connected subnet, default route, longest prefix first. */
import { describe, expect, it } from 'vitest';
import { ipv4Address } from '../wire/address.js';
import { RoutingTable } from './routes.js';

describe('RoutingTable', () => {
  it('sends on-link destinations straight, others through the gateway, nothing without a route', () => {
    const table = new RoutingTable();
    expect(table.nextHop(ipv4Address('10.0.0.9'))).toBeUndefined();
    table.configure(ipv4Address('10.0.0.2'), 24, ipv4Address('10.0.0.1'));
    expect(table.nextHop(ipv4Address('10.0.0.9'))).toBe(ipv4Address('10.0.0.9'));
    expect(table.nextHop(ipv4Address('8.8.8.8'))).toBe(ipv4Address('10.0.0.1'));
    expect(table.gateway).toBe(ipv4Address('10.0.0.1'));
  });

  it('takes the longest matching prefix', () => {
    const table = new RoutingTable();
    table.configure(ipv4Address('10.0.0.2'), 24, ipv4Address('10.0.0.1'));
    table.add({ destination: ipv4Address('192.168.0.0'), prefixLength: 16, gateway: ipv4Address('10.0.0.254') });
    expect(table.nextHop(ipv4Address('192.168.7.7'))).toBe(ipv4Address('10.0.0.254'));
    expect(table.nextHop(ipv4Address('192.169.0.1'))).toBe(ipv4Address('10.0.0.1'));
  });
});
