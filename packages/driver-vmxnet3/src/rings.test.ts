import { DmaPool } from '@uos/hw';
import { FakeMachine } from '@uos/hw/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReceiveRing, TransmitRing } from './rings.js';

// The rings alone, with the test playing the device: it writes completions into the words directly.
let machine: FakeMachine;

beforeEach(() => {
  machine = new FakeMachine().install();
});

afterEach(() => {
  machine.uninstall();
});

const SIZE = 32;
const DESCRIPTORS = 0;
const COMPLETIONS = SIZE * 4;

/** Word 3 of a completion: type and generation. */
const completionWord = (generation: number, type = 0): number => ((type << 24) | (generation << 31)) >>> 0;

describe('TransmitRing', () => {
  function ring(): { words: Uint32Array; tx: TransmitRing; pool: DmaPool } {
    const words = new Uint32Array(SIZE * 8);
    const pool = new DmaPool(256, SIZE);
    const tx = new TransmitRing(words, DESCRIPTORS, COMPLETIONS, SIZE, pool);
    tx.reset();
    return { words, tx, pool };
  }
  const generationOf = (words: Uint32Array, index: number): number => (words[index * 4 + 2]! >>> 14) & 1;

  it('starts with every descriptor pointing at its own buffer, owned by the driver (generation 0)', () => {
    const { words, tx, pool } = ring();
    for (let i = 0; i < SIZE; i++) {
      expect(words[i * 4]).toBe(pool.buffer(i).address);
      expect(generationOf(words, i)).toBe(0);
      expect(words[i * 4 + 3]).toBe((1 << 12) | (1 << 13)); // end of packet, completion request
    }
    expect([tx.free, tx.pending, tx.producer]).toEqual([SIZE, 0, 0]);
  });

  it('hands each slot over with the generation of its lap, and the lap after with the other one', () => {
    const { words, tx } = ring();
    let completion = 0;
    let completionGeneration = 1;
    const complete = (index: number): void => {
      words[COMPLETIONS + completion * 4] = index;
      words[COMPLETIONS + completion * 4 + 3] = completionWord(completionGeneration);
      if (++completion === SIZE) {
        completion = 0;
        completionGeneration ^= 1;
      }
    };
    for (let lap = 0; lap < 3; lap++) {
      for (let i = 0; i < SIZE; i++) {
        tx.put(new Uint8Array(60 + i));
        expect(generationOf(words, i)).toBe(lap % 2 === 0 ? 1 : 0);
        expect(words[i * 4 + 2]! & 0x3fff).toBe(60 + i);
      }
      expect([tx.free, tx.producer]).toEqual([0, 0]);
      // The device completes them in two groups; a completion frees everything up to the slot it names.
      complete(9);
      complete(SIZE - 1);
      expect(tx.reclaim()).toBe(SIZE);
      expect(tx.free).toBe(SIZE);
      // Completions of the previous lap (the other generation) are not taken again.
      expect(tx.reclaim()).toBe(0);
    }
  });

  it('refuses a completion naming a slot the device does not hold', () => {
    const { words, tx } = ring();
    tx.put(new Uint8Array(60));
    tx.put(new Uint8Array(60));
    words[COMPLETIONS] = 5; // slots 0 and 1 are in flight, not 5
    words[COMPLETIONS + 3] = completionWord(1);
    expect(tx.reclaim()).toBe(-1);
    words[COMPLETIONS] = 4096 + 1; // the index field is 12 bits: 1 is fine
    expect(tx.reclaim()).toBe(2);
  });
});

describe('ReceiveRing', () => {
  const COMPLETION_SIZE = SIZE + 32;
  function ring(): { words: Uint32Array; rx: ReceiveRing; pool: DmaPool } {
    const words = new Uint32Array(SIZE * 4 + COMPLETION_SIZE * 4);
    const pool = new DmaPool(1536, SIZE);
    const rx = new ReceiveRing(words, DESCRIPTORS, COMPLETIONS, SIZE, COMPLETION_SIZE, pool, 1536);
    rx.reset();
    return { words, rx, pool };
  }
  const generationOf = (words: Uint32Array, index: number): number => words[index * 4 + 2]! >>> 31;

  it('offers every buffer for lap 1 (generation 1, head buffers of the full size)', () => {
    const { words, pool } = ring();
    for (let i = 0; i < SIZE; i++) {
      expect(words[i * 4]).toBe(pool.buffer(i).address);
      expect(words[i * 4 + 2]).toBe((1536 | (1 << 31)) >>> 0);
    }
  });

  it('gives each buffer back for the next lap as its frame is taken, through many laps of both rings', () => {
    const { words, rx, pool } = ring();
    let completion = 0;
    let completionGeneration = 1;
    let device = 0;
    const frames: number[] = [];
    for (let n = 0; n < SIZE * 5 + 7; n++) {
      const index = device;
      device = (device + 1) % SIZE;
      pool.buffer(index).bytes.set([n & 0xff, n >> 8], 14);
      const at = COMPLETIONS + completion * 4;
      words[at] = index | (1 << 14) | (1 << 15);
      words[at + 2] = 64;
      words[at + 3] = completionWord(completionGeneration, 3);
      if (++completion === COMPLETION_SIZE) {
        completion = 0;
        completionGeneration ^= 1;
      }
      const lapAfter = Math.floor(n / SIZE) + 1;
      expect(
        rx.drain(
          (f) => frames.push(f[14]! | (f[15]! << 8)),
          () => expect.fail('no fault expected'),
        ),
      ).toBe(1);
      expect(generationOf(words, index)).toBe((1 + lapAfter) % 2);
      expect(
        rx.drain(
          () => {},
          () => {},
        ),
      ).toBe(0);
    }
    expect(frames).toEqual(Array.from({ length: SIZE * 5 + 7 }, (_, i) => i));
  });

  it('sends errors, fragments and impossible lengths to the fault path, and still gives the buffers back', () => {
    const { words, rx } = ring();
    const faults: string[] = [];
    const cases = [
      [0 | (1 << 14) | (1 << 15), 60 | (1 << 14)], // error bit
      [1 | (1 << 15), 60], // start without end
      [2 | (1 << 14) | (1 << 15), 10], // shorter than a header
      [3 | (1 << 14) | (1 << 15), 1537], // longer than the buffer
    ];
    cases.forEach(([first, status], i) => {
      words[COMPLETIONS + i * 4] = first!;
      words[COMPLETIONS + i * 4 + 2] = status!;
      words[COMPLETIONS + i * 4 + 3] = completionWord(1, 3);
    });
    expect(
      rx.drain(
        () => expect.fail('nothing to deliver'),
        (kind) => faults.push(kind),
      ),
    ).toBe(4);
    expect(faults).toEqual(['error', 'fragment', 'length', 'length']);
    for (let i = 0; i < 4; i++) expect(generationOf(words, i)).toBe(0);
  });

  it('refuses a completion for a descriptor out of turn, or for ring 1', () => {
    const { words, rx } = ring();
    words[COMPLETIONS] = 3 | (1 << 14) | (1 << 15);
    words[COMPLETIONS + 2] = 60;
    words[COMPLETIONS + 3] = completionWord(1, 3);
    expect(
      rx.drain(
        () => {},
        () => {},
      ),
    ).toBe(-1);
    words[COMPLETIONS] = 0 | (1 << 14) | (1 << 15) | (1 << 16);
    expect(
      rx.drain(
        () => {},
        () => {},
      ),
    ).toBe(-1);
  });
});
