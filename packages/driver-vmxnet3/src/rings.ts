import type { DmaPool } from '@uos/hw';
import {
  COMPLETION_GENERATION_SHIFT,
  INDEX_MASK,
  INITIAL_GENERATION,
  LENGTH_MASK,
  RX_END_OF_PACKET,
  RX_ERROR,
  RX_START_OF_PACKET,
  TX_COMPLETION_REQUEST,
  TX_END_OF_PACKET,
  TX_GENERATION_SHIFT,
} from './layout.js';

/** Writes a 64-bit physical address into two little-endian words (descriptor words 0 and 1). */
function setAddress(words: Uint32Array, at: number, address: number): void {
  words[at] = address % 4294967296;
  words[at + 1] = Math.floor(address / 4294967296);
}

/**
 * The rings of one transmit queue: descriptors the driver fills and a completion ring the device fills,
 * each with a generation bit that flips every lap, so whose turn a slot is needs no shared index.
 * Descriptor i always points at buffer i (only the length changes) and every frame is one descriptor
 * with end-of-packet and completion-request set, so the device completes frames in order, one by one.
 */
export class TransmitRing {
  /** The next descriptor to fill, and the generation that hands it to the device. */
  private fill = 0;
  private fillGeneration = INITIAL_GENERATION;
  /** The oldest descriptor the device still holds; `inFlight` of them from there. */
  private oldest = 0;
  private inFlight = 0;
  private completion = 0;
  private completionGeneration = INITIAL_GENERATION;

  constructor(
    private readonly words: Uint32Array,
    /** Word offsets of the descriptor and completion rings in `words`. */
    private readonly descriptors: number,
    private readonly completions: number,
    readonly size: number,
    private readonly buffers: DmaPool,
  ) {}

  /** Empties both rings (after a device reset): every descriptor back with the driver, generation 1. */
  reset(): void {
    this.fill = 0;
    this.fillGeneration = INITIAL_GENERATION;
    this.oldest = 0;
    this.inFlight = 0;
    this.completion = 0;
    this.completionGeneration = INITIAL_GENERATION;
    this.words.fill(0, this.completions, this.completions + this.size * 4);
    for (let i = 0; i < this.size; i++) {
      const at = this.descriptors + i * 4;
      setAddress(this.words, at, this.buffers.buffer(i).address);
      // Generation 0 while the driver owns it: the device (at generation 1) will not take it.
      this.words[at + 2] = 0;
      this.words[at + 3] = TX_END_OF_PACKET | TX_COMPLETION_REQUEST;
    }
  }

  get free(): number {
    return this.size - this.inFlight;
  }

  get pending(): number {
    return this.inFlight;
  }

  /** The index where the next frame goes (the value of the transmit producer register). */
  get producer(): number {
    return this.fill;
  }

  /** Copies `frame` into the next slot and hands it to the device. The caller checked `free` and the length. */
  put(frame: Uint8Array): void {
    const index = this.fill;
    this.buffers.buffer(index).bytes.set(frame);
    // The generation goes last, with the length, in one store: x86 keeps stores in order.
    this.words[this.descriptors + index * 4 + 2] = frame.length | (this.fillGeneration << TX_GENERATION_SHIFT);
    this.inFlight++;
    if (++this.fill === this.size) {
      this.fill = 0;
      this.fillGeneration ^= 1;
    }
  }

  /**
   * Takes the completions the device wrote; each frees the descriptors up to the one it names. Returns
   * the descriptors freed, or -1 when a completion names a descriptor the device does not hold (the
   * device is confused; the caller resets it).
   */
  reclaim(): number {
    let freed = 0;
    for (;;) {
      const at = this.completions + this.completion * 4;
      if (this.words[at + 3]! >>> COMPLETION_GENERATION_SHIFT !== this.completionGeneration) return freed;
      const index = this.words[at]! & INDEX_MASK;
      const done = index - this.oldest + (index < this.oldest ? this.size : 0) + 1;
      if (index >= this.size || done > this.inFlight) return -1;
      this.oldest = (index + 1) % this.size;
      this.inFlight -= done;
      freed += done;
      if (++this.completion === this.size) {
        this.completion = 0;
        this.completionGeneration ^= 1;
      }
    }
  }
}

/** What `ReceiveRing.drain` found wrong in a completion. */
export type ReceiveFault = 'error' | 'fragment' | 'length';

/**
 * Receive ring 0 of one queue with its completion ring. Every descriptor holds a head buffer of
 * `bufferSize` bytes and descriptor i is always buffer i; the device takes them in order, so each
 * completion names the next descriptor, which goes straight back to the device (with the next lap's
 * generation) once its frame was handed on. Ring 1 (body buffers) stays empty: with one buffer per
 * frame the device never asks for it.
 */
export class ReceiveRing {
  /** The next descriptor the device will complete, and the generation that gives it back. */
  private next = 0;
  private refillGeneration = INITIAL_GENERATION;
  private completion = 0;
  private completionGeneration = INITIAL_GENERATION;

  constructor(
    private readonly words: Uint32Array,
    private readonly descriptors: number,
    private readonly completions: number,
    readonly size: number,
    readonly completionSize: number,
    private readonly buffers: DmaPool,
    private readonly bufferSize: number,
  ) {}

  /** Hands every buffer to the device (after a reset): generation 1, ring and completions from index 0. */
  reset(): void {
    this.completion = 0;
    this.completionGeneration = INITIAL_GENERATION;
    this.words.fill(0, this.completions, this.completions + this.completionSize * 4);
    for (let i = 0; i < this.size; i++) {
      const at = this.descriptors + i * 4;
      setAddress(this.words, at, this.buffers.buffer(i).address);
      this.words[at + 3] = 0;
      this.words[at + 2] = (this.bufferSize | (INITIAL_GENERATION << COMPLETION_GENERATION_SHIFT)) >>> 0;
    }
    // Every descriptor was given for lap 1: the next time round they go back with generation 0.
    this.next = 0;
    this.refillGeneration = INITIAL_GENERATION ^ 1;
  }

  /** The producer index to report (the slot after the last one given back). */
  get producer(): number {
    return this.next;
  }

  /**
   * Hands each completed frame to `deliver` (a view valid during the call), then gives its buffer back.
   * Frames with the error bit, spread over several buffers, or of a length no buffer holds (shorter
   * than an Ethernet header, longer than the buffer) go to `fault` instead. Returns the completions
   * taken, or -1 when a completion names a descriptor other than the next one or a ring other than
   * ring 0 (the caller resets the device).
   */
  drain(deliver: (frame: Uint8Array) => void, fault: (kind: ReceiveFault) => void): number {
    let taken = 0;
    for (;;) {
      const at = this.completions + this.completion * 4;
      const last = this.words[at + 3]!;
      if (last >>> COMPLETION_GENERATION_SHIFT !== this.completionGeneration) return taken;
      const first = this.words[at]!;
      const index = first & INDEX_MASK;
      if (index !== this.next || (first >>> 16) & 0x3ff) return -1;
      if (++this.completion === this.completionSize) {
        this.completion = 0;
        this.completionGeneration ^= 1;
      }
      taken++;
      const status = this.words[at + 2]!;
      const length = status & LENGTH_MASK;
      if (status & RX_ERROR) fault('error');
      else if (!(first & RX_START_OF_PACKET) || !(first & RX_END_OF_PACKET)) fault('fragment');
      else if (length < 14 || length > this.bufferSize) fault('length');
      else deliver(this.buffers.buffer(index).bytes.subarray(0, length));
      // Back to the device for its next lap.
      this.words[this.descriptors + index * 4 + 2] = (this.bufferSize | (this.refillGeneration << COMPLETION_GENERATION_SHIFT)) >>> 0;
      if (++this.next === this.size) {
        this.next = 0;
        this.refillGeneration ^= 1;
      }
    }
  }
}
