/** Addresses: the IPv4 brand, the version test, formatting and folding. */
import { describe, expect, it } from 'vitest';
import {
  type Ipv6Address,
  foldIpAddress,
  formatIpAddress,
  formatIpv4Address,
  ipv4Address,
  ipv4FromNumber,
  isIpv4,
  parseIpv4Address,
  prefixMask,
} from './address.js';

const v6 = (...words: number[]): Ipv6Address => {
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return { version: 6, bytes };
};

describe('addresses', () => {
  it('parses and formats dotted quads, refusing what is not one', () => {
    expect(formatIpv4Address(ipv4Address('10.0.2.15'))).toBe('10.0.2.15');
    expect(ipv4Address('255.255.255.255')).toBe(0xffffffff);
    for (const text of ['10.0.2', '10.0.2.256', '1.2.3.4.5', ' 1.2.3.4', 'a.b.c.d']) expect(parseIpv4Address(text)).toBeUndefined();
    expect(() => ipv4Address('10.0.2')).toThrow(/not an IPv4 address/);
  });

  it('keeps IPv4 addresses numbers (=== and Map keys work), converting others on purpose', () => {
    expect(ipv4Address('10.0.0.1') === ipv4FromNumber(0x0a000001)).toBe(true);
    expect(ipv4FromNumber(-1)).toBe(0xffffffff);
    expect(prefixMask(24)).toBe(0xffffff00);
    expect(isIpv4(ipv4Address('10.0.0.1'))).toBe(true);
    expect(isIpv4(v6(0xfe80, 0, 0, 0, 0, 0, 0, 1))).toBe(false);
  });

  it('formats an IPv6 address as eight groups', () => {
    expect(formatIpAddress(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x42))).toBe('2001:db8:0:0:0:0:0:42');
    expect(formatIpAddress(ipv4Address('192.168.1.9'))).toBe('192.168.1.9');
  });

  it('folds an address to 32 bits: IPv4 as it is, IPv6 by exclusive-or of its words', () => {
    expect(foldIpAddress(ipv4Address('10.0.0.1'))).toBe(0x0a000001);
    expect(foldIpAddress(v6(0x2001, 0x0db8, 0, 0, 0, 0, 0, 1))).toBe((0x20010db8 ^ 1) >>> 0);
  });
});
