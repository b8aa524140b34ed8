import { BUFFER_OVERHEAD_BYTES, type MemoryAccount } from '../../memory.js';

/**
 * What the send side needs of its buffer: bytes written by the application and not yet acknowledged,
 * offset 0 being SND.UNA.
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

/** What one chunk is charged beyond its bytes: the array object, or the copy's own buffer. */
export const CHUNK_OVERHEAD_BYTES = BUFFER_OVERHEAD_BYTES;
/** Writes shorter than this, one after another, are copied together into a buffer of ours. */
const SMALL_WRITE_BYTES = 512;
/** Such a buffer's size: enough for a few small writes, and no more than 16 KiB. */
const MIN_OWN_BYTES = 1024;
const MAX_OWN_BYTES = 16 * 1024;
const EMPTY = new Uint8Array(0);
/** What a send buffer may hold while the memory budget is under pressure. */
export const PRESSURE_SEND_BYTES = 8 * 1024;

/**
 * The send buffer as a list of chunks that holds only the bytes written and not yet acknowledged: memory
 * follows the data, nothing is allocated up front and everything is given back as it is acknowledged.
 *
 * - A write keeps the application's own `Uint8Array` (what it accepted of it, a view when it took part),
 *   without copying: the bytes are the connection's until the peer acknowledges them, and the caller
 *   must not change them meanwhile (the `TcpSocket.write` contract).
 * - Small writes one after another (under 512 bytes) are copied into a buffer of ours instead, so a
 *   stream of tiny writes costs its bytes rather than an array object each.
 * - Every chunk is charged to the stack's memory budget (its bytes plus an object's overhead) when it is
 *   taken and released when it is acknowledged; a write takes only what the budget can pay for.
 * - Copies out go through a cursor, so sending in order finds its chunk at once.
 */
export class SendBuffer implements SendQueue {
  /** The chunks, created on the first write and dropped when everything is acknowledged. */
  private chunks: Uint8Array[] | undefined;
  /** The first live chunk, and the bytes of it already acknowledged. */
  private first = 0;
  private skip = 0;
  private size = 0;
  /** The last chunk is a buffer of ours, filled up to `ownUsed`. */
  private ownTail = false;
  private ownUsed = 0;
  /** Where the last copy found its chunk: the index, and that chunk's offset from SND.UNA. */
  private cursor = 0;
  private cursorStart = 0;

  constructor(
    readonly capacity: number,
    private readonly memory?: MemoryAccount,
  ) {}

  get length(): number {
    return this.size;
  }

  /**
   * Bytes a write would take now: the room left, within what the budget can pay; under memory pressure
   * a buffer holds no more than 8 KiB (Linux guarantees tcp_wmem[0] under pressure, and no more), so
   * those that hold much stop growing and the rest of the budget serves connections that hold little.
   */
  get free(): number {
    let room = this.capacity - this.size;
    const memory = this.memory;
    if (!memory || room <= 0) return Math.max(0, room);
    const budget = memory.budget;
    if (budget.underPressure) room = Math.min(room, PRESSURE_SEND_BYTES - this.size);
    return Math.max(0, Math.min(room, budget.free - CHUNK_OVERHEAD_BYTES));
  }

  /** Appends as much of `data` as the buffer and the budget take; returns the number of bytes taken. */
  write(data: Uint8Array): number {
    const n = Math.min(data.length, this.free);
    if (n <= 0) return 0;
    const taken = n === data.length ? data : data.subarray(0, n);
    const chunks = this.chunks;
    const last = chunks ? chunks.length - 1 : -1;
    if (chunks && n < SMALL_WRITE_BYTES && last >= this.first) {
      const tail = chunks[last]!;
      // Another small write: into our buffer at the tail if it has room,
      if (this.ownTail && tail.length - this.ownUsed >= n) {
        tail.set(taken, this.ownUsed);
        this.ownUsed += n;
        this.size += n;
        return n;
      }
      // or into a new one that takes the small tail with it (offsets stay: the tail is copied whole).
      const tailLength = this.lengthOf(last);
      const size = Math.min(MAX_OWN_BYTES, Math.max(MIN_OWN_BYTES, 2 * (tailLength + n)));
      if (tailLength < SMALL_WRITE_BYTES && this.pay(size - tail.length)) {
        const own = new Uint8Array(size);
        own.set(this.ownTail ? tail.subarray(0, tailLength) : tail);
        own.set(taken, tailLength);
        chunks[last] = own;
        this.ownTail = true;
        this.ownUsed = tailLength + n;
        this.size += n;
        return n;
      }
    }
    if (!this.pay(n + CHUNK_OVERHEAD_BYTES)) return 0;
    if (this.ownTail) {
      // Our buffer stops being the tail: cut to what it holds (its room is given back).
      const own = chunks![last]!;
      chunks![last] = own.slice(0, this.ownUsed);
      this.pay(this.ownUsed - own.length);
      this.ownTail = false;
    }
    (this.chunks ??= []).push(taken);
    this.size += n;
    return n;
  }

  /** Copies `length` bytes starting `offset` bytes after SND.UNA into `target` at `targetOffset`. */
  copy(offset: number, length: number, target: Uint8Array, targetOffset: number): void {
    const chunks = this.chunks;
    if (!chunks || length <= 0) return;
    let index = this.cursor;
    let start = this.cursorStart;
    if (index < this.first || offset < start) {
      index = this.first;
      start = -this.skip;
    }
    // lengthOf inline (this runs for every segment sent): the own tail holds `ownUsed` bytes.
    const ownTail = this.ownTail ? chunks.length - 1 : -1;
    const ownUsed = this.ownUsed;
    let chunkLength = index === ownTail ? ownUsed : chunks[index]!.length;
    while (start + chunkLength <= offset) {
      start += chunkLength;
      index++;
      chunkLength = index === ownTail ? ownUsed : chunks[index]!.length;
    }
    this.cursor = index;
    this.cursorStart = start;
    let at = offset - start;
    let to = targetOffset;
    let left = length;
    while (left > 0) {
      const chunk = chunks[index]!;
      let take = (index === ownTail ? ownUsed : chunk.length) - at;
      if (left < take) take = left;
      target.set(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take), to);
      to += take;
      left -= take;
      at = 0;
      index++;
    }
  }

  /** Drops `n` acknowledged bytes from the front, giving back the chunks they emptied. */
  release(n: number): void {
    const chunks = this.chunks;
    let k = Math.min(n, this.size);
    if (!chunks || k <= 0) return;
    this.size -= k;
    this.cursorStart -= k;
    while (k > 0) {
      const left = this.lengthOf(this.first) - this.skip;
      if (k < left) {
        this.skip += k;
        break;
      }
      k -= left;
      this.dropFirst();
    }
    if (this.size === 0) {
      // Everything acknowledged: the list goes too.
      while (this.first < chunks.length) this.dropFirst();
      this.chunks = undefined;
      this.first = 0;
      this.skip = 0;
      this.cursor = 0;
      this.cursorStart = 0;
      return;
    }
    if (this.cursor < this.first) {
      this.cursor = this.first;
      this.cursorStart = -this.skip;
    }
    if (this.first >= 16 && this.first * 2 >= chunks.length) {
      chunks.splice(0, this.first);
      this.cursor -= this.first;
      this.first = 0;
    }
  }

  /** Bytes charged to the budget now (for tests and diagnostics). */
  get charged(): number {
    const chunks = this.chunks;
    if (!chunks) return 0;
    let total = 0;
    for (let i = this.first; i < chunks.length; i++) total += chunks[i]!.length + CHUNK_OVERHEAD_BYTES;
    return total;
  }

  /** Bytes of chunk `index` that hold data. */
  private lengthOf(index: number): number {
    const chunks = this.chunks!;
    return this.ownTail && index === chunks.length - 1 ? this.ownUsed : chunks[index]!.length;
  }

  private dropFirst(): void {
    const chunks = this.chunks!;
    const chunk = chunks[this.first]!;
    this.memory?.release(chunk.length + CHUNK_OVERHEAD_BYTES);
    if (this.first === chunks.length - 1) this.ownTail = false;
    chunks[this.first] = EMPTY;
    this.first++;
    this.skip = 0;
  }

  /** Charges `bytes` (gives back when negative); false when the budget cannot pay. */
  private pay(bytes: number): boolean {
    if (!this.memory) return true;
    if (bytes < 0) {
      this.memory.release(-bytes);
      return true;
    }
    return this.memory.reserve(bytes);
  }
}
