/** The Internet checksum (RFC 1071) and the pseudo-headers of both IP versions. */
import { describe, expect, it } from 'vitest';
import { type Ipv6Address, ipv4Address } from './address.js';
import {
  checksum,
  checksumFold,
  checksumImplementation,
  checksumSum,
  checksumSumInJs,
  pseudoHeaderSum,
  setChecksumSum,
} from './checksum.js';
import { emitTcp } from './tcp.js';

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

describe('the platform’s sum', () => {
  /** A stand-in for the native sum: folded to 16 bits as the native one returns it, and counting its calls. */
  const folding = () => {
    const state = { calls: 0 };
    const sum = (bytes: Uint8Array, start: number, end: number, initial: number): number => {
      state.calls++;
      let s = checksumSumInJs(bytes, start, end, initial);
      while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
      return s;
    };
    return { state, sum };
  };

  it('is taken from the Symbol.for slot whenever one is there, registered before or after this module loaded', () => {
    expect(checksumImplementation()).toBe('javascript');
    const platform = folding();
    (globalThis as unknown as Record<symbol, unknown>)[Symbol.for('uos.net.checksum')] = platform.sum;
    try {
      expect(checksumImplementation()).toBe('platform');
      const bytes = Uint8Array.from({ length: 1480 }, (_, i) => i & 0xff);
      expect(checksum(bytes)).toBe(checksumFold(checksumSumInJs(bytes, 0, bytes.length)));
      expect(platform.state.calls).toBe(1);
    } finally {
      setChecksumSum(undefined);
    }
    expect(checksumImplementation()).toBe('javascript');
  });

  it('gives the packets the same checksums as the JS sum', () => {
    const platform = folding();
    const repr = { sourcePort: 80, destinationPort: 40000, sequence: 1, acknowledgment: 2, flags: 0x18, window: 512 };
    const payload = Uint8Array.from({ length: 999 }, (_, i) => (i * 7) & 0xff);
    const emit = (): Uint8Array => {
      const buffer = new Uint8Array(20 + payload.length);
      buffer.set(payload, 20);
      emitTcp(repr, buffer, payload.length, ipv4Address('10.0.0.1'), ipv4Address('10.0.0.2'));
      return buffer;
    };
    const byJs = emit();
    setChecksumSum(platform.sum);
    try {
      expect(emit()).toEqual(byJs);
      expect(platform.state.calls).toBeGreaterThan(0);
    } finally {
      setChecksumSum(undefined);
    }
  });
});
