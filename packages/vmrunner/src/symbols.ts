import { type ElfSymbol, STT_FUNC, STT_NOTYPE } from './elf.js';
import { pushVarint, readVarint } from './varint.js';

/**
 * The native symbol table joined to the image (payload section 2, read by native/kernel/panic.c) so the
 * kernel prints symbolised backtraces itself. Sorted by address and front-coded, since it is read only
 * on a crash and every byte is in the image:
 *   u32 count; then per symbol: varint (address - previous address), u8 bytes shared with the previous
 *   name, the rest of the name (UTF-8), NUL.
 */
export function encodeSymbols(symbols: readonly ElfSymbol[], textStart: number, textEnd: number): Uint8Array {
  const byAddress = new Map<number, string>();
  for (const s of symbols) {
    if (s.type !== STT_FUNC && s.type !== STT_NOTYPE) continue;
    if (!s.name || s.name.startsWith('.') || s.value < textStart || s.value >= textEnd) continue;
    const existing = byAddress.get(s.value);
    // Prefer real function names over asm local labels at the same address.
    if (!existing || (s.type === STT_FUNC && !existing.startsWith('isr_'))) byAddress.set(s.value, s.name);
  }
  const sorted = [...byAddress].sort((a, b) => a[0] - b[0]);
  const encoder = new TextEncoder();
  const out: number[] = [];
  const count = sorted.length;
  out.push(count & 0xff, (count >>> 8) & 0xff, (count >>> 16) & 0xff, (count >>> 24) & 0xff);
  let previousAddress = 0;
  let previousName = new Uint8Array(0);
  for (const [address, name] of sorted) {
    pushVarint(out, address - previousAddress);
    const bytes = encoder.encode(name);
    let shared = 0;
    while (shared < 255 && shared < bytes.length && shared < previousName.length && bytes[shared] === previousName[shared]) shared++;
    out.push(shared, ...bytes.subarray(shared), 0);
    previousAddress = address;
    previousName = bytes;
  }
  return Uint8Array.from(out);
}

/** Decodes the table (what panic.c does on a crash); for tests and host-side tools. */
export function decodeSymbols(blob: Uint8Array): { address: number; name: string }[] {
  if (blob.length < 4) return [];
  const count = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(0, true);
  const decoder = new TextDecoder();
  const entries: { address: number; name: string }[] = [];
  let p = 4;
  let address = 0;
  let name = new Uint8Array(0);
  for (let i = 0; i < count && p < blob.length; i++) {
    const delta = readVarint(blob, p);
    address += delta.value;
    p = delta.next;
    const shared = blob[p++]!;
    const end = blob.indexOf(0, p);
    const next = new Uint8Array(shared + (end - p));
    next.set(name.subarray(0, shared));
    next.set(blob.subarray(p, end), shared);
    name = next;
    p = end + 1;
    entries.push({ address, name: decoder.decode(name) });
  }
  return entries;
}
