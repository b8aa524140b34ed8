/** LEB128-style unsigned varints (7 bits per byte, low first), as the payload sections use them. */
export function pushVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Reads a varint at `offset`; returns the value and the offset after it. */
export function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  let p = offset;
  for (;;) {
    const b = bytes[p++];
    if (b === undefined) break;
    value += (b & 0x7f) * scale;
    scale *= 0x80;
    if (!(b & 0x80)) break;
  }
  return { value, next: p };
}
