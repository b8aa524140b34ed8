/** The Internet checksum (RFC 1071) and the pseudo-headers of both IP versions. */
import { describe, expect, it } from 'vitest';
import { type Ipv6Address, ipv4Address } from './address.js';
import { checksum, checksumFold, checksumSum, checksumSumInJs, pseudoHeaderSum } from './checksum.js';

const v6 = (text: string): Ipv6Address => {
  const bytes = new Uint8Array(16);
  text.split(':').forEach((group, i) => {
    const word = parseInt(group, 16);
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return { version: 6, bytes };
};

describe('the Internet checksum', () => {
  it('computes RFC 1071’s example', () => {
    // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded); the checksum is its complement.
    const bytes = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(checksumFold(checksumSumInJs(bytes, 0, bytes.length))).toBe(~0xddf2 & 0xffff);
    expect(checksum(bytes)).toBe(~0xddf2 & 0xffff);
  });

  it('pads an odd length with a zero byte, and sums in parts as in one', () => {
    const bytes = Uint8Array.from({ length: 1001 }, (_, i) => (i * 37) & 0xff);
    const whole = checksumFold(checksumSum(bytes, 0, bytes.length));
    const parts = checksumFold(checksumSum(bytes, 500, bytes.length, checksumSum(bytes, 0, 500)));
    expect(parts).toBe(whole);
    const padded = Uint8Array.from([...bytes, 0]);
    expect(checksum(padded)).toBe(whole);
  });
});

describe('pseudo-headers', () => {
  it('sums the IPv4 pseudo-header as RFC 9293 §3.1 lays it out', () => {
    const source = ipv4Address('10.0.2.15');
    const destination = ipv4Address('93.184.216.34');
    const layout = Uint8Array.of(10, 0, 2, 15, 93, 184, 216, 34, 0, 6, 0x05, 0xdc);
    expect(checksumFold(pseudoHeaderSum(source, destination, 6, 1500))).toBe(checksum(layout));
  });

  it('sums the IPv6 pseudo-header as RFC 8200 §8.1 lays it out (32-bit length, next header last)', () => {
    const source = v6('2001:db8:0:0:0:0:0:1');
    const destination = v6('fe80:0:0:0:21a:2bff:fe3c:4d5e');
    const length = 70_000; // a jumbogram-sized length shows the 32-bit field
    const layout = new Uint8Array(40);
    layout.set(source.bytes, 0);
    layout.set(destination.bytes, 16);
    layout.set([length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff], 32);
    layout[39] = 17;
    expect(checksumFold(pseudoHeaderSum(source, destination, 17, length))).toBe(checksum(layout));
  });
});
