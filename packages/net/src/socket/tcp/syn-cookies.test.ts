/** SYN cookies on their own: what a cookie keeps, for how long, and what it refuses. */
import { describe, expect, it } from 'vitest';
import { VirtualClock, seededRandom } from '../../clock.js';
import { ipv4Address } from '../../wire/address.js';
import { COOKIE_MSS, SynCookies } from './syn-cookies.js';

const endpoints = { localAddress: ipv4Address('10.0.0.2'), localPort: 80, remoteAddress: ipv4Address('10.0.0.1'), remotePort: 40000 };

function cookies() {
  const clock = new VirtualClock();
  clock.advance(10 * 60_000);
  return { clock, cookies: new SynCookies(seededRandom(3), clock) };
}

describe('SynCookies', () => {
  it('keeps the largest MSS of its table that the peer allows', () => {
    const { cookies: c } = cookies();
    for (const [peer, kept] of [
      [1460, 1460],
      [9000, 1460],
      [1452, 1440],
      [1400, 1300],
      [1000, 536],
      [100, 536],
    ]) {
      const made = c.make(endpoints, 12345, peer!);
      expect(made.mss).toBe(kept);
      expect(c.check(endpoints, 12345, made.sequence)).toBe(kept);
    }
    expect(COOKIE_MSS).toEqual([536, 1300, 1440, 1460]);
  });

  it('is good for the minute it was made in and two more, and refuses other endpoints, ISNs and bits', () => {
    const { clock, cookies: c } = cookies();
    const { sequence } = c.make(endpoints, 777, 1460);
    expect(c.check({ ...endpoints, remotePort: 40001 }, 777, sequence)).toBeUndefined();
    expect(c.check({ ...endpoints, remoteAddress: ipv4Address('10.0.0.9') }, 777, sequence)).toBeUndefined();
    expect(c.check(endpoints, 778, sequence)).toBeUndefined();
    for (let bit = 0; bit < 32; bit++) expect(c.check(endpoints, 777, (sequence ^ (1 << bit)) >>> 0)).toBeUndefined();
    clock.advance(2 * 60_000);
    expect(c.check(endpoints, 777, sequence)).toBe(1460);
    clock.advance(60_000);
    expect(c.check(endpoints, 777, sequence)).toBeUndefined();
    // Another key makes other cookies.
    expect(new SynCookies(seededRandom(4), clock).check(endpoints, 777, c.make(endpoints, 777, 1460).sequence)).toBeUndefined();
  });

  it('carries window scale and SACK-permitted in the low bits of a timestamp no later than now', () => {
    const { cookies: c } = cookies();
    for (const [scale, sack] of [
      [7, true],
      [0, false],
      [14, true],
      [undefined, true],
      [undefined, false],
    ] as const) {
      const now = 123_456_789;
      const value = c.timestamp(now, scale, sack);
      expect(value).toBeLessThanOrEqual(now);
      expect(now - value).toBeLessThan(128);
      expect(SynCookies.optionsFromEcho(value)).toEqual({ windowScale: scale, sackPermitted: sack });
    }
  });
});
