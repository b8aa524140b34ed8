/**
 * Host parsing and serialization (WHATWG URL §3): IPv6 literals, IPv4 in all its legacy spellings
 * (decimal, octal, hex, fewer than four parts), opaque hosts of non-special URLs, and domains lowercased
 * with non-ASCII labels in Punycode (ToASCII without the full UTS #46 mapping and validity tables, which
 * would cost the image hundreds of kilobytes: see the package README).
 */
import { C0_CONTROL_SET, percentDecode, percentEncode } from './percent-encoding.js';
import { punycodeEncode } from './punycode.js';

/** Host failure: the parser turns it into "Invalid URL". */
export const HOST_FAILURE = null;

const FORBIDDEN_HOST = /[\0\t\n\r #/:<>?@[\\\]^|]/;
const FORBIDDEN_DOMAIN = /[\0\t\n\r #/:<>?@[\\\]^|%\x01-\x1f\x7f]/;

function parseIpv6(input: string): number[] | null {
  const address = [0, 0, 0, 0, 0, 0, 0, 0];
  let piece = 0;
  let compress: number | null = null;
  let i = 0;
  const c = (at: number): number => (at < input.length ? input.charCodeAt(at) : -1);
  const isHex = (code: number): boolean => (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
  if (c(i) === 58) {
    if (c(i + 1) !== 58) return null;
    i += 2;
    piece++;
    compress = piece;
  }
  while (c(i) !== -1) {
    if (piece === 8) return null;
    if (c(i) === 58) {
      if (compress !== null) return null;
      i++;
      piece++;
      compress = piece;
      continue;
    }
    let value = 0;
    let length = 0;
    while (length < 4 && isHex(c(i))) {
      value = value * 16 + Number.parseInt(input[i]!, 16);
      i++;
      length++;
    }
    if (c(i) === 46) {
      if (length === 0) return null;
      i -= length;
      if (piece > 6) return null;
      let numbersSeen = 0;
      while (c(i) !== -1) {
        let ipv4Piece: number | null = null;
        if (numbersSeen > 0) {
          if (c(i) === 46 && numbersSeen < 4) i++;
          else return null;
        }
        if (!(c(i) >= 48 && c(i) <= 57)) return null;
        while (c(i) >= 48 && c(i) <= 57) {
          const digit = c(i) - 48;
          if (ipv4Piece === null) ipv4Piece = digit;
          else if (ipv4Piece === 0) return null;
          else ipv4Piece = ipv4Piece * 10 + digit;
          if (ipv4Piece > 255) return null;
          i++;
        }
        address[piece] = address[piece]! * 0x100 + ipv4Piece!;
        numbersSeen++;
        if (numbersSeen === 2 || numbersSeen === 4) piece++;
      }
      if (numbersSeen !== 4) return null;
      break;
    }
    if (c(i) === 58) {
      i++;
      if (c(i) === -1) return null;
    } else if (c(i) !== -1) {
      return null;
    }
    address[piece] = value;
    piece++;
  }
  if (compress !== null) {
    let swaps = piece - compress;
    piece = 7;
    while (piece !== 0 && swaps > 0) {
      const from = compress + swaps - 1;
      const tmp = address[from]!;
      address[from] = address[piece]!;
      address[piece] = tmp;
      piece--;
      swaps--;
    }
  } else if (piece !== 8) {
    return null;
  }
  return address;
}

function serializeIpv6(address: number[]): string {
  // The first longest run of two or more zero pieces is compressed.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (address[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && address[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  let out = '';
  let ignore0 = false;
  for (let i = 0; i < 8; i++) {
    if (ignore0 && address[i] === 0) continue;
    ignore0 = false;
    if (bestStart === i) {
      out += i === 0 ? '::' : ':';
      ignore0 = true;
      continue;
    }
    out += address[i]!.toString(16);
    if (i !== 7) out += ':';
  }
  return out;
}

/** One IPv4 part: decimal, 0x hex or 0 octal; undefined when it is none. */
function parseIpv4Number(part: string): number | undefined {
  if (part === '') return undefined;
  let radix = 10;
  let digits = part;
  if (part.length >= 2 && (part.startsWith('0x') || part.startsWith('0X'))) {
    radix = 16;
    digits = part.slice(2);
  } else if (part.length >= 2 && part.charCodeAt(0) === 48) {
    radix = 8;
    digits = part.slice(1);
  }
  if (digits === '') return 0;
  const valid = radix === 10 ? /^[0-9]+$/ : radix === 16 ? /^[0-9A-Fa-f]+$/ : /^[0-7]+$/;
  if (!valid.test(digits)) return undefined;
  return Number.parseInt(digits, radix);
}

/** Whether the last part of a domain is a number, which makes the whole an IPv4 address. */
function endsInNumber(input: string): boolean {
  const parts = input.split('.');
  if (parts[parts.length - 1] === '') {
    if (parts.length === 1) return false;
    parts.pop();
  }
  const last = parts[parts.length - 1]!;
  if (last !== '' && /^[0-9]+$/.test(last)) return true;
  return parseIpv4Number(last) !== undefined;
}

function parseIpv4(input: string): number | null {
  const parts = input.split('.');
  if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
  if (parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = parseIpv4Number(part);
    if (n === undefined) return null;
    numbers.push(n);
  }
  for (let i = 0; i < numbers.length - 1; i++) if (numbers[i]! > 255) return null;
  if (numbers[numbers.length - 1]! >= 256 ** (5 - numbers.length)) return null;
  let ipv4 = numbers[numbers.length - 1]!;
  for (let i = 0; i < numbers.length - 1; i++) ipv4 += numbers[i]! * 256 ** (3 - i);
  return ipv4;
}

function serializeIpv4(address: number): string {
  return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join('.');
}

/** Domain to ASCII: lowercase, each non-ASCII label as xn--Punycode; failure on forbidden code points. */
function domainToAscii(domain: string): string | null {
  // U+FFFD stands for bytes that were not UTF-8 (UTS #46 disallows it), as do the C1 controls.
  if (/[\ufffd\x80-\x9f]/.test(domain)) return null;
  const labels = domain.toLowerCase().split('.');
  const out: string[] = [];
  for (const label of labels) {
    if (/[^\0-\x7f]/.test(label)) {
      const encoded = punycodeEncode(label.normalize('NFC'));
      if (encoded === null) return null;
      out.push(`xn--${encoded}`);
    } else {
      out.push(label);
    }
  }
  const ascii = out.join('.');
  if (ascii.length === 0 || FORBIDDEN_DOMAIN.test(ascii)) return null;
  return ascii;
}

/** Parses a host (special URLs: a domain or an IP address; others: an opaque host). Null on failure. */
export function parseHost(input: string, special: boolean): string | null {
  if (input.charCodeAt(0) === 0x5b /* [ */) {
    if (input.charCodeAt(input.length - 1) !== 0x5d) return null;
    const address = parseIpv6(input.slice(1, -1));
    return address ? `[${serializeIpv6(address)}]` : null;
  }
  if (!special) {
    if (FORBIDDEN_HOST.test(input)) return null;
    return percentEncode(input, C0_CONTROL_SET);
  }
  const domain = percentDecode(input);
  const ascii = domainToAscii(domain);
  if (ascii === null) return null;
  if (endsInNumber(ascii)) {
    const ipv4 = parseIpv4(ascii);
    return ipv4 === null ? null : serializeIpv4(ipv4);
  }
  return ascii;
}
