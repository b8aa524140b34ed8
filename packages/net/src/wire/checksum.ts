import type { IpAddress } from './address.js';

/**
 * A sum the platform may provide: the RFC 1071 sum of `bytes[start..end)` as big-endian 16-bit words
 * plus `initial`, folded or not (any value with the same ones' complement fold), never complemented.
 */
export type ChecksumSum = (bytes: Uint8Array, start: number, end: number, initial: number) => number;

/**
 * Where a platform puts its native `ChecksumSum`: `globalThis[Symbol.for('uos.net.checksum')]`. uOS's
 * kernel puts `@uos/x86`'s native sum there at boot, before the service's modules run, so an image gets
 * it without the service doing anything; Node has none, and the JS sum below does the work. A
 * `Symbol.for` slot rather than an import: `@uos/net` depends on no platform package, and every copy of
 * it in a bundle sees the same slot.
 */
export const CHECKSUM_SLOT: unique symbol = Symbol.for('uos.net.checksum');

const slots = globalThis as unknown as { [CHECKSUM_SLOT]?: ChecksumSum };

/**
 * The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words.
 * `sum` accumulates (it may be called over several ranges and a pseudo-header), `fold` finishes. The
 * platform's sum does the work when there is one (one property read per call to find it: in an image
 * the native sum is some 90 times faster than the JS one over a full frame).
 */
export function checksumSum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  const platform = slots[CHECKSUM_SLOT];
  return platform ? platform(bytes, start, end, initial) : checksumSumInJs(bytes, start, end, initial);
}

/** Puts `implementation` in the slot (tests, or a platform that registers late); without one, empties it. */
export function setChecksumSum(implementation: ChecksumSum | undefined): void {
  if (implementation) slots[CHECKSUM_SLOT] = implementation;
  else delete slots[CHECKSUM_SLOT];
}

/** Which sum the checksums use now: the platform's ('platform') or the portable one ('javascript'). */
export function checksumImplementation(): 'platform' | 'javascript' {
  return typeof slots[CHECKSUM_SLOT] === 'function' ? 'platform' : 'javascript';
}

/** The portable sum (Node, and the reference the native one is held to). */
export function checksumSumInJs(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  // Unrolled over 8-byte blocks: this runs over every byte of every packet.
  for (; i + 7 < end; i += 8) {
    sum +=
      ((bytes[i]! << 8) | bytes[i + 1]!) +
      ((bytes[i + 2]! << 8) | bytes[i + 3]!) +
      ((bytes[i + 4]! << 8) | bytes[i + 5]!) +
      ((bytes[i + 6]! << 8) | bytes[i + 7]!);
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Folds a sum to 16 bits and complements it. */
export function checksumFold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** The checksum of a byte range. A range that holds a correct checksum sums to 0. */
export function checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return checksumFold(checksumSum(bytes, start, end));
}

/**
 * The pseudo-header's contribution to a TCP or UDP checksum sum: for IPv4 (RFC 9293 §3.1, RFC 768) source,
 * destination, protocol and the 16-bit length; for IPv6 (RFC 8200 §8.1) source, destination, the 32-bit
 * upper-layer length and the next header. The sum is of 16-bit words, so the order of the fields does not
 * matter, only their words. IPv4 addresses are numbers: their sum costs no call and no allocation.
 */
export function pseudoHeaderSum(source: IpAddress, destination: IpAddress, protocol: number, length: number): number {
  if (typeof source === 'number' && typeof destination === 'number') {
    return (source >>> 16) + (source & 0xffff) + (destination >>> 16) + (destination & 0xffff) + protocol + length;
  }
  return addressSum(source) + addressSum(destination) + (length >>> 16) + (length & 0xffff) + protocol;
}

/** The sum of an address's 16-bit words. */
function addressSum(address: IpAddress): number {
  if (typeof address === 'number') return (address >>> 16) + (address & 0xffff);
  return checksumSumInJs(address.bytes, 0, 16);
}
