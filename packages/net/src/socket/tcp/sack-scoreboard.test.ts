/** The SACK scoreboard (RFC 2018 §8, RFC 6675 §3): what the peer holds above SND.UNA. */
import { describe, expect, it } from 'vitest';
import { SackScoreboard } from './sack-scoreboard.js';

const UNA = 0xfffff000; // close to the wrap: sequence arithmetic must hold across it
const at = (n: number) => (UNA + n) >>> 0;

describe('SackScoreboard', () => {
  it('keeps reported ranges sorted and merged', () => {
    const board = new SackScoreboard();
    board.update([[at(3000), at(4000)]], UNA, at(10_000));
    board.update(
      [
        [at(1000), at(2000)],
        [at(3500), at(5000)],
      ],
      UNA,
      at(10_000),
    );
    expect(board.ranges).toEqual([
      [at(1000), at(2000)],
      [at(3000), at(5000)],
    ]);
    expect(board.sackedBytes()).toBe(3000);
  });

  it('ignores blocks at or below the ACK (D-SACK, RFC 2883), beyond what was sent, or empty', () => {
    const board = new SackScoreboard();
    board.update(
      [
        [at(-500), UNA],
        [at(9000), at(11_000)],
        [at(2000), at(2000)],
      ],
      UNA,
      at(10_000),
    );
    expect(board.isEmpty).toBe(true);
  });

  it('drops what SND.UNA passes and cuts a range it lands in', () => {
    const board = new SackScoreboard();
    board.update(
      [
        [at(1000), at(2000)],
        [at(3000), at(4000)],
      ],
      UNA,
      at(10_000),
    );
    board.acknowledge(at(3500));
    expect(board.ranges).toEqual([[at(3500), at(4000)]]);
  });

  it('answers what need not be sent again, how far the next SACKed range is, and what is SACKed above a point', () => {
    const board = new SackScoreboard();
    board.update(
      [
        [at(1000), at(2000)],
        [at(2000), at(2500)],
        [at(4000), at(6000)],
      ],
      UNA,
      at(10_000),
    );
    expect(board.skip(at(1200))).toBe(at(2500));
    expect(board.skip(at(3000))).toBe(at(3000));
    expect(board.gapAfter(at(2500))).toBe(1500);
    expect(board.gapAfter(at(6000))).toBe(Infinity);
    // RFC 6675 IsLost: bytes SACKed in ranges above the point.
    expect(board.sackedAbove(UNA)).toBe(3500);
    expect(board.sackedAbove(at(3000))).toBe(2000);
  });

  it('holds at most 64 ranges, however many blocks a peer sends', () => {
    const board = new SackScoreboard();
    for (let i = 0; i < 200; i++) board.update([[at(i * 100 + 10), at(i * 100 + 20)]], UNA, at(100_000));
    expect(board.ranges.length).toBe(64);
  });
});
