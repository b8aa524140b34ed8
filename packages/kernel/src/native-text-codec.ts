/**
 * TextEncoder and TextDecoder over the platform's native UTF-8 (native/kernel/js-utf8.c), the globals of
 * a uOS image: the WHATWG Encoding standard for UTF-8, tens of times faster than decoding in the
 * interpreter. text-codec.ts is the portable implementation with the same behaviour (and the reference
 * the integration tests compare these with).
 */
import { native } from '@uos/x86';
import { isUtf8Label, toBytes } from './encoding-input.js';
import type { TextDecodeOptions, TextDecoderOptions, TextEncoderEncodeIntoResult } from './text-codec.js';

const empty = new Uint8Array(0);

export class TextEncoder {
  get encoding(): string {
    return 'utf-8';
  }

  /** UTF-8 bytes of `input`; lone surrogates become U+FFFD. */
  encode(input: string = ''): Uint8Array {
    return new Uint8Array(native().utf8Encode(String(input)));
  }

  /** Writes as much of `source` as fits, never splitting a code point. */
  encodeInto(source: string, destination: Uint8Array): TextEncoderEncodeIntoResult {
    if (!(destination instanceof Uint8Array)) throw new TypeError('encodeInto needs a Uint8Array destination');
    const [read, written] = native().utf8EncodeInto(String(source), destination);
    return { read, written };
  }

  get [Symbol.toStringTag](): string {
    return 'TextEncoder';
  }
}

export class TextDecoder {
  private readonly isFatal: boolean;
  private readonly keepsBOM: boolean;
  /** Bytes of an incomplete sequence left by a `stream: true` call. */
  private pending = empty;
  /** Whether the first code point of the stream has been output (so a later U+FEFF is kept). */
  private bomSeen = false;

  constructor(label: string = 'utf-8', options: TextDecoderOptions = {}) {
    const name = String(label);
    if (!isUtf8Label(name)) throw new RangeError(`The "${name}" encoding is not supported: only UTF-8 is supported in uOS`);
    this.isFatal = Boolean(options?.fatal);
    this.keepsBOM = Boolean(options?.ignoreBOM);
  }

  get encoding(): string {
    return 'utf-8';
  }

  get fatal(): boolean {
    return this.isFatal;
  }

  get ignoreBOM(): boolean {
    return this.keepsBOM;
  }

  get [Symbol.toStringTag](): string {
    return 'TextDecoder';
  }

  decode(input?: ArrayBuffer | ArrayBufferView, options?: TextDecodeOptions): string {
    let bytes = toBytes(input);
    const stream = options != null && Boolean(options.stream);
    if (this.pending.length) {
      const joined = new Uint8Array(this.pending.length + bytes.length);
      joined.set(this.pending);
      joined.set(bytes, this.pending.length);
      bytes = joined;
    }
    let text: string;
    let consumed: number;
    try {
      [text, consumed] = native().utf8Decode(bytes, this.isFatal, stream);
    } catch (error) {
      this.pending = empty;
      this.bomSeen = false;
      throw error;
    }
    this.pending = consumed < bytes.length ? bytes.slice(consumed) : empty;
    if (text.length > 0 && !this.keepsBOM && !this.bomSeen) {
      this.bomSeen = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (!stream) {
      this.bomSeen = false;
      this.pending = empty;
    }
    return text;
  }
}
