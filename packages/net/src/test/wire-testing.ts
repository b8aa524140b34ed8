import type { WireResult } from '../wire/result.js';

/**
 * The bytes of a `tcpdump -xx` dump (`0x0000:  ae4e 3de4 …`): offsets and white space are skipped, so a
 * capture can be pasted into a test as it was printed. Throws on anything that is not hex pairs.
 */
export function bytesFromTcpdump(dump: string): Uint8Array {
  const digits = dump.replace(/0x[0-9a-f]+:/g, '').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/.test(digits)) throw new Error('not a tcpdump -xx dump');
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** `length` bytes of 0xa5: emit into this, and what the emitter left unwritten shows. */
export function poisoned(length: number): Uint8Array {
  return new Uint8Array(length).fill(0xa5);
}

/** The value of a result a test expects to be ok; throws with the error's kind and detail otherwise. */
export function unwrap<T>(result: WireResult<T>): T {
  if (!result.ok) throw new Error(`unexpected ${result.error.kind}: ${result.error.detail}`);
  return result.value;
}
