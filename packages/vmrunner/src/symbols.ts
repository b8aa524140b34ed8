import { type ElfSymbol, STT_FUNC, STT_NOTYPE } from './elf.js';
import { pushVarint, readVarint } from './varint.js';
import { VmRunnerError } from './errors.js';

/**
 * The native symbol table joined to the image (payload section 2, read by native/kernel/panic.c) so the
 * kernel prints symbolised backtraces itself. Every byte is in the image and the table is read only on a
 * crash, so it is packed: sorted by address and front-coded, and the name bytes byte-pair encoded.
 *   u32 count; u8 tokens; tokens x { u8 left; u8 right }   (byte 0x80 + i expands to left, right)
 *   per symbol: varint (address - previous address), u8 bytes shared with the previous name,
 *               the rest of the name (ASCII and tokens), NUL.
 */
const MAX_TOKENS = 128;

function selectSymbols(symbols: readonly ElfSymbol[], textStart: number, textEnd: number): [number, string][] {
  const byAddress = new Map<number, string>();
  for (const s of symbols) {
    if (s.type !== STT_FUNC && s.type !== STT_NOTYPE) continue;
    if (!s.name || s.name.startsWith('.') || s.value < textStart || s.value >= textEnd) continue;
    const existing = byAddress.get(s.value);
    // Prefer real function names over asm local labels at the same address.
    if (!existing || (s.type === STT_FUNC && !existing.startsWith('isr_'))) byAddress.set(s.value, s.name);
  }
  return [...byAddress].sort((a, b) => a[0] - b[0]);
}

/** Byte-pair encoding: repeatedly replaces the most frequent adjacent pair with a new token. */
function pairEncode(sequences: number[][]): [number, number][] {
  const tokens: [number, number][] = [];
  while (tokens.length < MAX_TOKENS) {
    const counts = new Map<number, number>();
    let best = -1;
    let bestCount = 2;
    for (const s of sequences) {
      for (let i = 0; i + 1 < s.length; i++) {
        const key = s[i]! * 256 + s[i + 1]!;
        const n = (counts.get(key) ?? 0) + 1;
        counts.set(key, n);
        if (n > bestCount || (n === bestCount && key < best)) {
          bestCount = n;
          best = key;
        }
      }
    }
    if (best < 0) break;
    const left = best >> 8;
    const right = best & 0xff;
    const token = 0x80 + tokens.length;
    tokens.push([left, right]);
    for (const s of sequences) {
      let write = 0;
      for (let read = 0; read < s.length; read++) {
        if (read + 1 < s.length && s[read] === left && s[read + 1] === right) {
          s[write++] = token;
          read++;
        } else s[write++] = s[read]!;
      }
      s.length = write;
    }
  }
  return tokens;
}

export function encodeSymbols(symbols: readonly ElfSymbol[], textStart: number, textEnd: number): Uint8Array {
  const sorted = selectSymbols(symbols, textStart, textEnd);
  const suffixes: number[][] = [];
  const shared: number[] = [];
  let previous = '';
  for (const [, name] of sorted) {
    if (/[^\x01-\x7f]/.test(name)) throw new VmRunnerError('symbols-invalid', `symbol name ${JSON.stringify(name)} is not ASCII`);
    let k = 0;
    while (k < 255 && k < name.length && k < previous.length && name[k] === previous[k]) k++;
    shared.push(k);
    suffixes.push([...name.slice(k)].map((c) => c.charCodeAt(0)));
    previous = name;
  }
  const tokens = pairEncode(suffixes);
  const out: number[] = [];
  const count = sorted.length;
  out.push(count & 0xff, (count >>> 8) & 0xff, (count >>> 16) & 0xff, (count >>> 24) & 0xff);
  out.push(tokens.length);
  for (const [left, right] of tokens) out.push(left, right);
  let previousAddress = 0;
  sorted.forEach(([address], i) => {
    pushVarint(out, address - previousAddress);
    out.push(shared[i]!, ...suffixes[i]!, 0);
    previousAddress = address;
  });
  return Uint8Array.from(out);
}

/** Decodes the table (what panic.c does on a crash); for tests and host-side tools. */
export function decodeSymbols(blob: Uint8Array): { address: number; name: string }[] {
  if (blob.length < 5) return [];
  const count = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(0, true);
  const tokenCount = blob[4]!;
  const expand = (byte: number, into: number[]): void => {
    if (byte < 0x80) {
      into.push(byte);
      return;
    }
    const at = 5 + (byte - 0x80) * 2;
    expand(blob[at]!, into);
    expand(blob[at + 1]!, into);
  };
  const entries: { address: number; name: string }[] = [];
  let p = 5 + tokenCount * 2;
  let address = 0;
  let name: number[] = [];
  for (let i = 0; i < count && p < blob.length; i++) {
    const delta = readVarint(blob, p);
    address += delta.value;
    p = delta.next;
    const keep = blob[p++]!;
    name = name.slice(0, keep);
    while (p < blob.length && blob[p] !== 0) expand(blob[p++]!, name);
    p++;
    entries.push({ address, name: String.fromCharCode(...name) });
  }
  return entries;
}
