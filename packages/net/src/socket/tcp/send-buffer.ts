/**
 * What the send side needs of its buffer: bytes written by the application and not yet acknowledged,
 * offset 0 being SND.UNA. A pooled or shared implementation (memory limits across connections) can stand
 * in for the ring below.
 */
export interface SendQueue {
  /** Bytes held. */
  readonly length: number;
  /** Bytes a write would take now. */
  readonly free: number;
  readonly capacity: number;
  /** Appends as much of `data` as fits; returns the number of bytes taken. */
  write(data: Uint8Array): number;
  /** Copies `length` bytes starting `offset` bytes after SND.UNA into `target` at `targetOffset`. */
  copy(offset: number, length: number, target: Uint8Array, targetOffset: number): void;
  /** Drops `n` acknowledged bytes from the front. */
  release(n: number): void;
}

/**
 * The send buffer as a fixed ring: `write` takes what fits (backpressure); `release` drops acknowledged
 * bytes.
 */
export class SendBuffer implements SendQueue {
  /** Allocated at the first write: a connection that never sends (a half-open one, a reader) costs no ring. */
  private ring: Uint8Array | undefined;
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.size;
  }

  get free(): number {
    return this.capacity - this.size;
  }

  /** Appends as much of `data` as fits; returns the number of bytes taken. */
  write(data: Uint8Array): number {
    const n = Math.min(data.length, this.free);
    if (!n) return 0;
    if (!this.ring) this.ring = new Uint8Array(this.capacity);
    const at = (this.start + this.size) % this.capacity;
    const first = Math.min(n, this.capacity - at);
    this.ring.set(data.subarray(0, first), at);
    if (n > first) this.ring.set(data.subarray(first, n), 0);
    this.size += n;
    return n;
  }

  /** Copies `length` bytes starting `offset` bytes after SND.UNA into `target` at `targetOffset`. */
  copy(offset: number, length: number, target: Uint8Array, targetOffset: number): void {
    if (!this.ring || length <= 0) return;
    const from = (this.start + offset) % this.capacity;
    const first = Math.min(length, this.capacity - from);
    target.set(this.ring.subarray(from, from + first), targetOffset);
    if (length > first) target.set(this.ring.subarray(0, length - first), targetOffset + first);
  }

  /** Drops `n` acknowledged bytes from the front. */
  release(n: number): void {
    const k = Math.min(n, this.size);
    this.start = (this.start + k) % this.capacity;
    this.size -= k;
  }
}
