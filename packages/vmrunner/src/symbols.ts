import { type ElfSymbol, STT_FUNC, STT_NOTYPE } from './elf.js';

/**
 * The native symbol table joined to the image (payload section 2, read by native/kernel/panic.c) so the
 * kernel prints symbolised backtraces itself:
 *   u32 count; { u32 address; u32 name_offset }[count] sorted by address; NUL-terminated names.
 * Names are offsets from the start of the section.
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
  const tableEnd = 4 + sorted.length * 8;
  const names: Uint8Array[] = [];
  let offset = tableEnd;
  const out: number[] = [];
  for (const [, name] of sorted) {
    const bytes = encoder.encode(name);
    names.push(bytes);
    out.push(offset);
    offset += bytes.length + 1;
  }
  const blob = new Uint8Array(offset);
  const view = new DataView(blob.buffer);
  view.setUint32(0, sorted.length, true);
  sorted.forEach(([address], i) => {
    view.setUint32(4 + i * 8, address, true);
    view.setUint32(8 + i * 8, out[i]!, true);
  });
  let at = tableEnd;
  for (const bytes of names) {
    blob.set(bytes, at);
    at += bytes.length + 1;
  }
  return blob;
}
