/**
 * Percent-encoding as the WHATWG URL standard defines it: the encode sets, percent-decoding that leaves a
 * stray "%" alone, and the application/x-www-form-urlencoded parser and serializer. The common cases go
 * through the engine's native encodeURIComponent/decodeURIComponent; byte loops only where they fail.
 */
import { utf8Decode, utf8Encode } from '../text.js';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The string with lone surrogates replaced by U+FFFD (Web IDL's USVString). */
export function toUsv(text: string): string {
  return /[\ud800-\udfff]/.test(text) ? text.replace(LONE_SURROGATE, '\ufffd') : text;
}

/** Code points (as a test) that an encode set encodes, beyond C0 controls and above U+007E. */
export type EncodeSet = (code: number) => boolean;

export const C0_CONTROL_SET: EncodeSet = () => false;
export const FRAGMENT_SET: EncodeSet = (c) => c === 0x20 || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x60;
export const QUERY_SET: EncodeSet = (c) => c === 0x20 || c === 0x22 || c === 0x23 || c === 0x3c || c === 0x3e;
export const SPECIAL_QUERY_SET: EncodeSet = (c) => QUERY_SET(c) || c === 0x27;
export const PATH_SET: EncodeSet = (c) => QUERY_SET(c) || c === 0x3f || c === 0x5e || c === 0x60 || c === 0x7b || c === 0x7d;
export const USERINFO_SET: EncodeSet = (c) =>
  PATH_SET(c) || c === 0x2f || c === 0x3a || c === 0x3b || c === 0x3d || c === 0x40 || (c >= 0x5b && c <= 0x5d) || c === 0x7c;

const HEX = '0123456789ABCDEF';

function hexByte(byte: number): string {
  return `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/** `text` with the code points in `set` (and C0 controls, and everything above U+007E) percent-encoded as UTF-8. */
export function percentEncode(text: string, set: EncodeSet): string {
  let out = '';
  let plainFrom = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && !set(c)) continue;
    out += text.slice(plainFrom, i);
    if (c < 0x80) {
      out += hexByte(c);
    } else {
      const high = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      const pair = high >= 0xdc00 && high <= 0xdfff;
      for (const byte of utf8Encode(toUsv(pair ? text.slice(i, i + 2) : text[i]!))) out += hexByte(byte);
      if (pair) i++;
    }
    plainFrom = i + 1;
  }
  return plainFrom === 0 ? text : out + text.slice(plainFrom);
}

function hexValue(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
}

/** The bytes of `text` (UTF-8) with each valid %XX turned into its byte; other "%" stay as they are. */
export function percentDecodeBytes(text: string): Uint8Array {
  const input = utf8Encode(text);
  const out = new Uint8Array(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const b = input[i]!;
    if (b === 0x25 && i + 2 < input.length) {
      const high = hexValue(input[i + 1]!);
      const low = hexValue(input[i + 2]!);
      if (high >= 0 && low >= 0) {
        out[n++] = (high << 4) | low;
        i += 2;
        continue;
      }
    }
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** Percent-decodes to a string (UTF-8, invalid sequences as U+FFFD). */
export function percentDecode(text: string): string {
  if (text.indexOf('%') < 0) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return utf8Decode(percentDecodeBytes(text));
  }
}

/** application/x-www-form-urlencoded parsing: name/value pairs, "+" as space. */
export function parseUrlEncoded(input: string): [string, string][] {
  const out: [string, string][] = [];
  if (input === '') return out;
  for (const sequence of input.split('&')) {
    if (sequence === '') continue;
    const eq = sequence.indexOf('=');
    const name = eq < 0 ? sequence : sequence.slice(0, eq);
    const value = eq < 0 ? '' : sequence.slice(eq + 1);
    out.push([percentDecode(name.replace(/\+/g, ' ')), percentDecode(value.replace(/\+/g, ' '))]);
  }
  return out;
}

/** application/x-www-form-urlencoded serializing of one string (UTF-8; space as "+"). */
export function formEncode(text: string): string {
  return encodeURIComponent(toUsv(text))
    .replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => hexByte(c.charCodeAt(0)));
}

export function serializeUrlEncoded(pairs: readonly (readonly [string, string])[]): string {
  let out = '';
  for (let i = 0; i < pairs.length; i++) {
    if (i) out += '&';
    out += `${formEncode(pairs[i]![0])}=${formEncode(pairs[i]![1])}`;
  }
  return out;
}
