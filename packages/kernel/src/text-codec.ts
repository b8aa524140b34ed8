/**
 * `TextEncoder` and `TextDecoder` for uOS services. QuickJS (ES2020) has neither, so the kernel installs these
 * as globals. They follow the WHATWG Encoding standard (https://encoding.spec.whatwg.org/) for UTF-8 only: the
 * encoder turns lone surrogates into U+FFFD, and the decoder implements the standard's UTF-8 decoder (maximal
 * subpart replacement, `fatal`, BOM handling, streaming). Any other encoding label throws a RangeError.
 *
 * Both run in an interpreter on network data paths, so the hot loops avoid per-character string concatenation
 * and arrays of numbers: the decoder fills a shared UTF-16 scratch buffer and turns it into strings 4096 code
 * units at a time (long ASCII runs go straight from the input bytes), and the encoder writes ASCII in one pass
 * and sizes its output exactly before writing anything else.
 */
import { isUtf8Label, toBytes } from './encoding-input.js';

export interface TextDecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}

export interface TextDecodeOptions {
  stream?: boolean;
}

export interface TextEncoderEncodeIntoResult {
  read: number;
  written: number;
}

/** Most code units turned into a string at once (well below any engine's argument-count limit). */
const CHUNK = 4096;

/** ASCII runs at least this long skip the scratch buffer and are converted straight from the input bytes. */
const DIRECT_RUN = 32;

/** Decoded UTF-16 waiting to become a string; shared, since decoding never re-enters. Room for one more short
 * ASCII run or a surrogate pair past CHUNK, which is checked before each write. */
const scratch = new Uint16Array(CHUNK + DIRECT_RUN + 4);

const fromCharCode = String.fromCharCode;

/** `String.fromCharCode` over an array-like of code units (typed arrays included). */
function charsOf(units: ArrayLike<number>): string {
  return fromCharCode.apply(null, units as unknown as number[]);
}

export class TextEncoder {
  get encoding(): string {
    return 'utf-8';
  }

  /** UTF-8 bytes of `input`; lone surrogates become U+FFFD (EF BF BD). */
  encode(input: string = ''): Uint8Array {
    const s = String(input);
    const n = s.length;

    // Optimistically ASCII: one byte per code unit, written while scanning.
    const ascii = new Uint8Array(n);
    let start = 0;
    for (; start < n; start++) {
      const c = s.charCodeAt(start);
      if (c >= 0x80) break;
      ascii[start] = c;
    }
    if (start === n) return ascii;

    // Size the rest: one byte per code unit, plus one for U+0080..U+07FF, plus two for the rest of the BMP and
    // for lone surrogates (3 bytes for 1 unit), plus two for a surrogate pair (4 bytes for 2 units).
    let size = n;
    for (let i = start; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) continue;
      if (c < 0x800) {
        size += 1;
        continue;
      }
      size += 2;
      if (c <= 0xdbff && c >= 0xd800 && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
    }

    const bytes = new Uint8Array(size);
    bytes.set(ascii.subarray(0, start));
    let at = start;
    for (let i = start; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        bytes[at++] = c;
      } else if (c < 0x800) {
        bytes[at++] = 0xc0 | (c >> 6);
        bytes[at++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
          if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
            const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            bytes[at++] = 0xf0 | (cp >> 18);
            bytes[at++] = 0x80 | ((cp >> 12) & 0x3f);
            bytes[at++] = 0x80 | ((cp >> 6) & 0x3f);
            bytes[at++] = 0x80 | (cp & 0x3f);
            i++;
            continue;
          }
          c = 0xfffd;
        }
        bytes[at++] = 0xe0 | (c >> 12);
        bytes[at++] = 0x80 | ((c >> 6) & 0x3f);
        bytes[at++] = 0x80 | (c & 0x3f);
      }
    }
    return bytes;
  }

  /** Encodes as much of `source` as fits in `destination` without splitting a code point. `read` counts UTF-16
   * code units of `source`, `written` bytes of `destination`. */
  encodeInto(source: string, destination: Uint8Array): TextEncoderEncodeIntoResult {
    if (Object.prototype.toString.call(destination) !== '[object Uint8Array]') {
      throw new TypeError('The "destination" argument must be a Uint8Array');
    }
    const s = String(source);
    const n = s.length;
    const room = destination.length;
    let read = 0;
    let written = 0;
    while (read < n) {
      let c = s.charCodeAt(read);
      if (c < 0x80) {
        if (written >= room) break;
        destination[written++] = c;
        read++;
      } else if (c < 0x800) {
        if (written + 2 > room) break;
        destination[written++] = 0xc0 | (c >> 6);
        destination[written++] = 0x80 | (c & 0x3f);
        read++;
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const d = read + 1 < n ? s.charCodeAt(read + 1) : 0;
          if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
            if (written + 4 > room) break;
            const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            destination[written++] = 0xf0 | (cp >> 18);
            destination[written++] = 0x80 | ((cp >> 12) & 0x3f);
            destination[written++] = 0x80 | ((cp >> 6) & 0x3f);
            destination[written++] = 0x80 | (cp & 0x3f);
            read += 2;
            continue;
          }
          c = 0xfffd;
        }
        if (written + 3 > room) break;
        destination[written++] = 0xe0 | (c >> 12);
        destination[written++] = 0x80 | ((c >> 6) & 0x3f);
        destination[written++] = 0x80 | (c & 0x3f);
        read++;
      }
    }
    return { read, written };
  }

  get [Symbol.toStringTag](): string {
    return 'TextEncoder';
  }
}

export class TextDecoder {
  private readonly isFatal: boolean;
  private readonly keepsBOM: boolean;

  // The standard's UTF-8 decoder state, carried between `stream: true` calls.
  private bytesNeeded = 0;
  private bytesSeen = 0;
  private codePoint = 0;
  private lowerBoundary = 0x80;
  private upperBoundary = 0xbf;
  /** Whether the first code point of the stream has been output (so a later U+FEFF is kept). */
  private bomSeen = false;

  constructor(label: string = 'utf-8', options: TextDecoderOptions = {}) {
    const name = String(label);
    if (!isUtf8Label(name)) {
      throw new RangeError(`The "${name}" encoding is not supported: only UTF-8 is supported in uOS`);
    }
    const opts: TextDecoderOptions = options ?? {};
    this.isFatal = Boolean(opts.fatal);
    this.keepsBOM = Boolean(opts.ignoreBOM);
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

  /**
   * Decodes `input`. With `stream: true`, an incomplete sequence at the end is kept for the next call; without
   * it, the call ends the stream (an incomplete sequence becomes U+FFFD, or a TypeError when fatal) and the next
   * call starts a new one.
   */
  decode(input?: ArrayBuffer | ArrayBufferView, options?: TextDecodeOptions): string {
    const bytes = toBytes(input);
    const stream = options != null && Boolean(options.stream);
    const fatal = this.isFatal;
    const end = bytes.length;
    const out = scratch;
    const parts: string[] = [];

    let needed = this.bytesNeeded;
    let seen = this.bytesSeen;
    let cp = this.codePoint;
    let lower = this.lowerBoundary;
    let upper = this.upperBoundary;
    let pos = 0;
    let i = 0;

    while (i < end) {
      if (pos >= CHUNK) {
        parts.push(charsOf(out.subarray(0, pos)));
        pos = 0;
      }
      const b = bytes[i]!;

      if (needed === 0) {
        if (b < 0x80) {
          let j = i + 1;
          const limit = end - i > CHUNK ? i + CHUNK : end;
          while (j < limit && bytes[j]! < 0x80) j++;
          if (j - i >= DIRECT_RUN) {
            if (pos > 0) {
              parts.push(charsOf(out.subarray(0, pos)));
              pos = 0;
            }
            parts.push(charsOf(bytes.subarray(i, j)));
            i = j;
          } else {
            while (i < j) out[pos++] = bytes[i++]!;
          }
          continue;
        }

        // Complete, valid sequences take the fast paths; anything else goes through the standard's byte-at-a-time
        // state machine below, starting from this lead byte.
        if (b >= 0xc2 && b <= 0xdf) {
          if (i + 1 < end) {
            const b1 = bytes[i + 1]!;
            if ((b1 & 0xc0) === 0x80) {
              out[pos++] = ((b & 0x1f) << 6) | (b1 & 0x3f);
              i += 2;
              continue;
            }
          }
          needed = 1;
          cp = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
          const lo = b === 0xe0 ? 0xa0 : 0x80;
          const hi = b === 0xed ? 0x9f : 0xbf;
          if (i + 2 < end) {
            const b1 = bytes[i + 1]!;
            const b2 = bytes[i + 2]!;
            if (b1 >= lo && b1 <= hi && (b2 & 0xc0) === 0x80) {
              out[pos++] = ((b & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
              i += 3;
              continue;
            }
          }
          needed = 2;
          cp = b & 0x0f;
          lower = lo;
          upper = hi;
        } else if (b >= 0xf0 && b <= 0xf4) {
          const lo = b === 0xf0 ? 0x90 : 0x80;
          const hi = b === 0xf4 ? 0x8f : 0xbf;
          if (i + 3 < end) {
            const b1 = bytes[i + 1]!;
            const b2 = bytes[i + 2]!;
            const b3 = bytes[i + 3]!;
            if (b1 >= lo && b1 <= hi && (b2 & 0xc0) === 0x80 && (b3 & 0xc0) === 0x80) {
              const c = (((b & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f)) - 0x10000;
              out[pos++] = 0xd800 | (c >> 10);
              out[pos++] = 0xdc00 | (c & 0x3ff);
              i += 4;
              continue;
            }
          }
          needed = 3;
          cp = b & 0x07;
          lower = lo;
          upper = hi;
        } else {
          // 80..BF without a lead byte, C0/C1 (always overlong), F5..FF (beyond U+10FFFF).
          if (fatal) throw this.fail();
          out[pos++] = 0xfffd;
        }
        i++;
        continue;
      }

      if (b < lower || b > upper) {
        // The bytes so far are a maximal subpart: one U+FFFD for them, and this byte starts over (not consumed).
        needed = 0;
        seen = 0;
        cp = 0;
        lower = 0x80;
        upper = 0xbf;
        if (fatal) throw this.fail();
        out[pos++] = 0xfffd;
        continue;
      }
      lower = 0x80;
      upper = 0xbf;
      cp = (cp << 6) | (b & 0x3f);
      i++;
      if (++seen !== needed) continue;
      if (cp < 0x10000) {
        out[pos++] = cp;
      } else {
        const c = cp - 0x10000;
        out[pos++] = 0xd800 | (c >> 10);
        out[pos++] = 0xdc00 | (c & 0x3ff);
      }
      needed = 0;
      seen = 0;
      cp = 0;
    }

    if (needed !== 0 && !stream) {
      // End of the stream inside a sequence.
      needed = 0;
      seen = 0;
      cp = 0;
      lower = 0x80;
      upper = 0xbf;
      if (fatal) throw this.fail();
      out[pos++] = 0xfffd;
    }
    this.bytesNeeded = needed;
    this.bytesSeen = seen;
    this.codePoint = cp;
    this.lowerBoundary = lower;
    this.upperBoundary = upper;

    if (pos > 0) parts.push(charsOf(out.subarray(0, pos)));
    if (parts.length > 0 && !this.keepsBOM && !this.bomSeen) {
      // The first code point of the stream: a byte order mark is dropped, anything else means none will be.
      this.bomSeen = true;
      const first = parts[0]!;
      if (first.charCodeAt(0) === 0xfeff) parts[0] = first.slice(1);
    }
    if (!stream) this.bomSeen = false;

    return parts.length === 1 ? parts[0]! : parts.join('');
  }

  /** Forgets the stream after a fatal error, so the decoder can be used again, and makes the error. */
  private fail(): TypeError {
    this.bytesNeeded = 0;
    this.bytesSeen = 0;
    this.codePoint = 0;
    this.lowerBoundary = 0x80;
    this.upperBoundary = 0xbf;
    this.bomSeen = false;
    return new TypeError('The encoded data was not valid UTF-8');
  }
}
