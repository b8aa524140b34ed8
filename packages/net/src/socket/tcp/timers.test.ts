/** The connection's timers over a virtual clock. */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock.js';
import { DelayedAck, KeepAlive, RetransmitTimer } from './timers.js';

describe('RetransmitTimer', () => {
  it('fires once at its deadline; arming it again while it runs does not move it (RFC 6298 §5.1)', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const timer = new RetransmitTimer(clock, { timedOut: () => fired.push(clock.now()) });
    timer.arm(1000);
    clock.advance(500);
    timer.arm(1000);
    clock.advance(2000);
    expect(fired).toEqual([1000]);
    expect(timer.running).toBe(false);
  });

  it('moves its deadline on a restart (§5.3), later or earlier, without a clock timer per restart', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const timer = new RetransmitTimer(clock, { timedOut: () => fired.push(clock.now()) });
    timer.arm(1000);
    for (let t = 100; t <= 900; t += 100) {
      clock.advance(100);
      timer.arm(1000, true);
    }
    clock.advance(999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([1900]);
    timer.arm(1000);
    timer.arm(100, true);
    clock.advance(100);
    expect(fired).toEqual([1900, 2000]);
  });

  it('stops when cancelled (§5.2)', () => {
    const clock = new VirtualClock();
    let fired = 0;
    const timer = new RetransmitTimer(clock, { timedOut: () => fired++ });
    timer.arm(10);
    timer.cancel();
    clock.advance(100);
    expect(fired).toBe(0);
  });
});

describe('DelayedAck', () => {
  it('sends what is owed when the delay is up, and nothing when an ACK went out meanwhile', () => {
    const clock = new VirtualClock();
    let sent = 0;
    const delayed = new DelayedAck(clock, 40, { sendAck: () => sent++ });
    delayed.schedule();
    clock.advance(39);
    expect(sent).toBe(0);
    clock.advance(1);
    expect(sent).toBe(1);
    delayed.schedule();
    delayed.owed = false;
    clock.advance(40);
    expect(sent).toBe(1);
  });
});

describe('KeepAlive', () => {
  it('probes after the idle time, then every interval, and expires after the probes go unanswered', () => {
    const clock = new VirtualClock();
    const events: string[] = [];
    const keepAlive = new KeepAlive(
      clock,
      { idleMs: 1000, intervalMs: 100, probes: 2 },
      { alive: () => true, probe: () => events.push(`probe ${clock.now()}`), expire: () => events.push(`expire ${clock.now()}`) },
    );
    keepAlive.start();
    clock.advance(500);
    keepAlive.heard();
    clock.advance(2000);
    expect(events).toEqual(['probe 1500', 'probe 1600', 'expire 1700']);
  });
});
