/** The window we offer (RFC 9293 §3.8.6.2, RFC 7323 §2) and the rules docs/architecture/network.md states. */
import { describe, expect, it } from 'vitest';
import { ReceiveWindow } from './receive-window.js';

describe('ReceiveWindow', () => {
  it('picks the smallest shift that fits the buffer in 16 bits, at most 14 (RFC 7323 §2.3)', () => {
    expect(new ReceiveWindow(65_535, true).shift).toBe(0);
    expect(new ReceiveWindow(131_072, true).shift).toBe(2);
    expect(new ReceiveWindow(2 ** 30, true).shift).toBe(14);
    expect(new ReceiveWindow(131_072, false).shift).toBe(0);
  });

  it('offers the buffer less what the application has not taken', () => {
    const window = new ReceiveWindow(10_000, false);
    window.synchronize(500);
    expect(window.advertise(500, 0)).toBe(10_000);
    expect(window.offered(1500, 1000)).toBe(9_000);
  });

  it('never moves the right edge left: a window advertised stays offered, less what arrived since', () => {
    const window = new ReceiveWindow(10_000, false);
    window.synchronize(0);
    window.advertise(0, 0); // edge at 10,000
    // The application gave 1,000 bytes back to the buffer's count (say, an accounting change): the edge holds.
    expect(window.offered(1000, 2000)).toBe(9_000);
    expect(window.advertise(1000, 2000)).toBe(9_000);
  });

  it('rounds a scaled window up, so the rounding never shrinks it', () => {
    const window = new ReceiveWindow(200_000, true);
    window.synchronize(0);
    expect(window.shift).toBe(2);
    expect(window.advertise(0, 0)).toBe(50_000);
    expect(window.advertise(3, 3)).toBe(50_000); // 199,997 bytes: 49,999.25 rounded up
    // What was advertised is offered from then on: 200,000 from RCV.NXT 3, more than the buffer's 199,997.
    expect(window.offered(3, 3)).toBe(200_000);
  });

  it('caps the field at 65,535', () => {
    const window = new ReceiveWindow(1_000_000, false);
    window.synchronize(0);
    expect(window.advertise(0, 0)).toBe(65_535);
  });
});
