import { isRunningOnUos, native } from '@uos/x86';
import { DOMException } from './dom-exception.js';

export type AlgorithmIdentifier = string | { name: string };
export type BufferSource = ArrayBuffer | ArrayBufferView;

interface HostSubtle {
  digest(algorithm: AlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer>;
}

function bytesOf(data: BufferSource): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('crypto.subtle.digest: the data must be an ArrayBuffer or a view of one');
}

/**
 * Web Crypto's SubtleCrypto, the part a web server needs: `digest` with SHA-1 and SHA-256, native in an
 * image (@uos/x86's js-digest.c), WebCrypto's own in Node. The other operations (sign, verify, importKey,
 * encrypt, ...) are not in uOS yet: calling one rejects with a NotSupportedError that says so.
 */
export const subtle = {
  digest(algorithm: AlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer> {
    try {
      const name = (typeof algorithm === 'string' ? algorithm : algorithm?.name)?.toUpperCase();
      if (name !== 'SHA-1' && name !== 'SHA-256') {
        throw new DOMException(
          `crypto.subtle.digest: ${String(name)} is not supported in uOS (SHA-1 and SHA-256 are)`,
          'NotSupportedError',
        );
      }
      const bytes = bytesOf(data);
      if (!isRunningOnUos()) return (globalThis as unknown as { crypto: { subtle: HostSubtle } }).crypto.subtle.digest(name, bytes);
      return Promise.resolve(native().digest(name, bytes));
    } catch (error) {
      return Promise.reject(error);
    }
  },
} as const;

const unsupported = (operation: string) => (): Promise<never> =>
  Promise.reject(new DOMException(`crypto.subtle.${operation} is not supported in uOS yet (only digest is)`, 'NotSupportedError'));

for (const operation of [
  'encrypt',
  'decrypt',
  'sign',
  'verify',
  'generateKey',
  'deriveKey',
  'deriveBits',
  'importKey',
  'exportKey',
  'wrapKey',
  'unwrapKey',
]) {
  Object.defineProperty(subtle, operation, { value: unsupported(operation), enumerable: true });
}
