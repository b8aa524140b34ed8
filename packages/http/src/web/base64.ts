import { DOMException } from './dom-exception.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Uint8Array(128).fill(255);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/** HTML's btoa: a string of characters up to U+00FF as base64. */
export function btoa(data: string): string {
  const text = String(data);
  let out = '';
  let i = 0;
  for (; i + 2 < text.length; i += 3) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    if ((a | b | c) > 255) break;
    out += ALPHABET[a >> 2]! + ALPHABET[((a & 3) << 4) | (b >> 4)]! + ALPHABET[((b & 15) << 2) | (c >> 6)]! + ALPHABET[c & 63]!;
  }
  const rest = text.length - i;
  for (let j = i; j < text.length; j++) {
    if (text.charCodeAt(j) > 255) throw new DOMException('btoa: the string has characters outside of Latin1', 'InvalidCharacterError');
  }
  if (rest === 1) {
    const a = text.charCodeAt(i);
    out += `${ALPHABET[a >> 2]}${ALPHABET[(a & 3) << 4]}==`;
  } else if (rest === 2) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    out += `${ALPHABET[a >> 2]}${ALPHABET[((a & 3) << 4) | (b >> 4)]}${ALPHABET[(b & 15) << 2]}=`;
  }
  return out;
}

/** HTML's atob ("forgiving-base64 decode"): ASCII whitespace ignored, padding optional. */
export function atob(data: string): string {
  let text = String(data).replace(/[\t\n\f\r ]/g, '');
  if (text.length % 4 === 0) text = text.replace(/==?$/, '');
  if (text.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(text)) {
    throw new DOMException('atob: the string is not correctly encoded base64', 'InvalidCharacterError');
  }
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    buffer = (buffer << 6) | LOOKUP[text.charCodeAt(i)]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((buffer >> bits) & 255);
    }
  }
  return out;
}
