import { native } from '@uos/x86';

/** Integer typed arrays, the ones crypto.getRandomValues accepts. */
export type IntegerTypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

const MAX_BYTES = 65536;

function isIntegerTypedArray(value: unknown): value is IntegerTypedArray {
  return (
    value instanceof Int8Array ||
    value instanceof Uint8Array ||
    value instanceof Uint8ClampedArray ||
    value instanceof Int16Array ||
    value instanceof Uint16Array ||
    value instanceof Int32Array ||
    value instanceof Uint32Array ||
    value instanceof BigInt64Array ||
    value instanceof BigUint64Array
  );
}

/**
 * The kernel's random numbers: a ChaCha20 generator in the platform, seeded from RDSEED, else RDRAND,
 * else TSC jitter (the boot log warns about the last), behind crypto.getRandomValues.
 */
export const rng = {
  /** Fills any typed array with random bytes, of any length. */
  fill<T extends ArrayBufferView>(array: T): T {
    return native().randomFill(array);
  },
  /** A random unsigned 32-bit integer. */
  uint32(): number {
    return native().randomFill(new Uint32Array(1))[0]!;
  },
  /** Where the seed comes from. */
  get source(): 'rdseed' | 'rdrand' | 'jitter' {
    return native().randomSource();
  },
};

/** The Web Crypto subset a uOS image provides as the global `crypto`. */
export const crypto = {
  /** Web Crypto's getRandomValues: integer typed arrays of at most 65536 bytes. */
  getRandomValues<T extends ArrayBufferView | null>(array: T): T {
    if (!isIntegerTypedArray(array)) {
      throw new TypeError('crypto.getRandomValues needs an integer typed array (Uint8Array, Int32Array, ...)');
    }
    if (array.byteLength > MAX_BYTES) {
      throw new RangeError(`crypto.getRandomValues fills at most ${MAX_BYTES} bytes at a time, not ${array.byteLength}`);
    }
    native().randomFill(array);
    return array;
  },
  /** A random RFC 4122 version 4 UUID. */
  randomUUID(): string {
    const b = native().randomFill(new Uint8Array(16));
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  },
};
