import { hwPlatform } from './platform.js';
import { HwError } from './errors.js';

/** Memory a device reads and writes: a view of physically contiguous, identity-mapped pages. */
export interface DmaBuffer {
  /** The physical (= virtual) address of `bytes[0]`. */
  readonly address: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
}

/** Zeroed, physically contiguous, page-aligned memory for a device. Keep a reference as long as the device may use it. */
export function allocateDma(size: number): DmaBuffer {
  const p = hwPlatform();
  const buffer = p.dmaAllocate(size);
  return { address: p.dmaAddress(buffer), bytes: new Uint8Array(buffer), view: new DataView(buffer) };
}

/**
 * A bounded pool of equal DMA buffers (packet buffers), carved from large contiguous chunks. `acquire`
 * returns undefined when all are in use: callers apply backpressure, nothing grows without bound.
 */
export class DmaPool {
  private readonly free: number[] = [];
  private readonly chunks: DmaBuffer[] = [];
  private readonly buffers: DmaBuffer[] = [];
  private readonly inUse: Uint8Array;

  constructor(
    readonly bufferSize: number,
    readonly count: number,
  ) {
    if (
      !Number.isInteger(bufferSize) ||
      bufferSize < 1 ||
      bufferSize > 1 << 20 ||
      !Number.isInteger(count) ||
      count < 1 ||
      count > 1 << 16
    ) {
      throw new HwError('dma-pool-invalid', `a DMA pool holds 1..65536 buffers of 1 byte..1 MiB, not ${count} x ${bufferSize}`);
    }
    const stride = Math.ceil(bufferSize / 64) * 64;
    const perChunk = Math.max(1, Math.floor((256 * 1024) / stride));
    for (let made = 0; made < count; ) {
      const n = Math.min(perChunk, count - made);
      const chunk = allocateDma(n * stride);
      this.chunks.push(chunk);
      for (let i = 0; i < n; i++) {
        const offset = i * stride;
        this.buffers.push({
          address: chunk.address + offset,
          bytes: chunk.bytes.subarray(offset, offset + bufferSize),
          view: new DataView(chunk.bytes.buffer, offset, bufferSize),
        });
      }
      made += n;
    }
    for (let i = count - 1; i >= 0; i--) this.free.push(i);
    this.inUse = new Uint8Array(count);
  }

  /** A free buffer's index, or undefined when none is left. */
  acquire(): number | undefined {
    const index = this.free.pop();
    if (index !== undefined) this.inUse[index] = 1;
    return index;
  }

  release(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new HwError('dma-pool-index', `no DMA buffer ${index} in a pool of ${this.count}`);
    }
    if (!this.inUse[index]) throw new HwError('dma-pool-double-release', `DMA buffer ${index} released twice`);
    this.inUse[index] = 0;
    this.free.push(index);
  }

  buffer(index: number): DmaBuffer {
    const b = this.buffers[index];
    if (!b) throw new HwError('dma-pool-index', `no DMA buffer ${index} in a pool of ${this.count}`);
    return b;
  }

  get available(): number {
    return this.free.length;
  }
}
