/** Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): comparisons hold across the wrap. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a - b as a signed distance (valid within 2^31). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

// The comparisons spell seqDiff out rather than call it: they run several times per segment, and in the
// image's interpreter a call costs more than the arithmetic.

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** Whether `x` lies in [start, end). */
export function seqInRange(x: number, start: number, end: number): boolean {
  return ((x - start) | 0) >= 0 && ((x - end) | 0) < 0;
}

export function seqMax(a: number, b: number): number {
  return seqGt(a, b) ? a : b;
}
