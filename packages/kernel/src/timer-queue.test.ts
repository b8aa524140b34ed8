import { describe, expect, it } from 'vitest';
import { TimerQueue } from './timer-queue.js';

/** A clock that moves only when the test says so. */
class FakeClock {
  time = 0;

  now(): number {
    return this.time;
  }

  advance(milliseconds: number): void {
    this.time += milliseconds;
  }

  set(milliseconds: number): void {
    this.time = milliseconds;
  }
}

function setup(): { clock: FakeClock; queue: TimerQueue; fired: string[] } {
  const clock = new FakeClock();
  return { clock, queue: new TimerQueue(clock), fired: [] };
}

/** A 32-bit linear congruential generator (Numerical Recipes constants), so runs are reproducible. */
function createRandom(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 0x1_0000_0000) * limit);
  };
}

describe('TimerQueue one-shot timers', () => {
  it('fires timers in deadline order, not in creation order', () => {
    const { clock, queue, fired } = setup();
    queue.add(30, () => fired.push('thirty'));
    queue.add(10, () => fired.push('ten'));
    queue.add(20, () => fired.push('twenty'));
    clock.set(100);
    expect(queue.runDue()).toBe(3);
    expect(fired).toEqual(['ten', 'twenty', 'thirty']);
  });

  it('fires only the timers whose deadline has passed', () => {
    const { clock, queue, fired } = setup();
    queue.add(10, () => fired.push('ten'));
    queue.add(20, () => fired.push('twenty'));
    clock.set(9);
    expect(queue.runDue()).toBe(0);
    expect(fired).toEqual([]);
    clock.set(10);
    expect(queue.runDue()).toBe(1);
    expect(fired).toEqual(['ten']);
    clock.set(19.999);
    expect(queue.runDue()).toBe(0);
    clock.set(25);
    expect(queue.runDue()).toBe(1);
    expect(fired).toEqual(['ten', 'twenty']);
    expect(queue.size).toBe(0);
  });

  it('measures the delay from the time of add', () => {
    const { clock, queue } = setup();
    clock.set(1000);
    queue.add(5, () => {});
    expect(queue.nextDeadline()).toBe(1005);
  });

  it('fires timers with equal deadlines in creation order', () => {
    const { clock, queue, fired } = setup();
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) queue.add(10, () => fired.push(name));
    clock.set(10);
    queue.runDue();
    expect(fired).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('orders equal deadlines reached from different delays by creation order', () => {
    const { clock, queue, fired } = setup();
    queue.add(10, () => fired.push('first'));
    clock.set(5);
    queue.add(5, () => fired.push('second'));
    clock.set(10);
    queue.runDue();
    expect(fired).toEqual(['first', 'second']);
  });

  it('fires a 0 ms timer on the next pass without the clock moving', () => {
    const { queue, fired } = setup();
    queue.add(0, () => fired.push('zero'));
    expect(queue.nextDeadline()).toBe(0);
    expect(queue.runDue()).toBe(1);
    expect(fired).toEqual(['zero']);
  });

  it('treats negative, NaN and infinite delays as 0 ms', () => {
    const { clock, queue, fired } = setup();
    clock.set(50);
    queue.add(-5, () => fired.push('negative'));
    queue.add(Number.NaN, () => fired.push('nan'));
    queue.add(Number.POSITIVE_INFINITY, () => fired.push('infinity'));
    expect(queue.nextDeadline()).toBe(50);
    expect(queue.runDue()).toBe(3);
    expect(fired).toEqual(['negative', 'nan', 'infinity']);
  });

  it('returns distinct ids', () => {
    const { queue } = setup();
    const ids = [queue.add(1, () => {}), queue.add(1, () => {}), queue.add(1, () => {})];
    expect(new Set(ids).size).toBe(3);
  });

  it('forgets a one-shot timer once it has fired', () => {
    const { queue } = setup();
    const id = queue.add(0, () => {});
    expect(queue.has(id)).toBe(true);
    queue.runDue();
    expect(queue.has(id)).toBe(false);
    expect(queue.size).toBe(0);
    expect(queue.nextDeadline()).toBeUndefined();
  });
});

describe('TimerQueue cancel', () => {
  it('does not fire a timer cancelled before its deadline', () => {
    const { clock, queue, fired } = setup();
    const id = queue.add(10, () => fired.push('cancelled'));
    queue.add(20, () => fired.push('kept'));
    queue.cancel(id);
    expect(queue.has(id)).toBe(false);
    expect(queue.size).toBe(1);
    clock.set(30);
    expect(queue.runDue()).toBe(1);
    expect(fired).toEqual(['kept']);
  });

  it('lets go of a cancelled timer’s callback at once, and of its entry once most entries are cancelled', () => {
    const { clock, queue, fired } = setup();
    // What a cancelled timer's callback holds must not live until the deadline (a network timer holds a connection).
    const callback = (): void => void fired.push('late');
    queue.cancel(queue.add(60_000, callback));
    const entries = (): { callback: () => void }[] => (queue as unknown as { heap: { callback: () => void }[] }).heap;
    expect(entries().length).toBe(1);
    expect(entries().some((entry) => entry.callback === callback)).toBe(false);
    // Thousands set and cancelled (a connection's timers, per connection): the heap does not keep them.
    for (let i = 0; i < 5000; i++) queue.cancel(queue.add(60_000 + i, () => fired.push('never')));
    queue.add(10, () => fired.push('live'));
    expect(entries().length).toBeLessThan(200);
    clock.set(70_000);
    queue.runDue();
    expect(fired).toEqual(['live']);
  });

  it('starts again with fresh storage once a burst of timers is over (QuickJS never shrinks an array or a Map)', () => {
    const { clock, queue, fired } = setup();
    const storage = (): { heap: unknown[]; byId: Map<number, unknown> } =>
      queue as unknown as { heap: unknown[]; byId: Map<number, unknown> };
    const ids = Array.from({ length: 1000 }, (_, i) => queue.add(1000 + i, () => fired.push('never')));
    const grown = storage().heap;
    // Most cancelled, the rest fired: nothing pending.
    for (const id of ids.slice(0, 900)) queue.cancel(id);
    clock.set(5000);
    queue.runDue();
    expect(fired).toHaveLength(100);
    expect(storage().heap).not.toBe(grown);
    expect(storage().heap.length).toBe(0);
    expect(storage().byId.size).toBe(0);
    // And the queue works as before.
    queue.add(10, () => fired.push('after'));
    clock.set(5010);
    queue.runDue();
    expect(fired[fired.length - 1]).toBe('after');
  });

  it('ignores unknown, already cancelled and already fired ids', () => {
    const { queue, fired } = setup();
    const fires = queue.add(0, () => fired.push('fired'));
    const stays = queue.add(100, () => {});
    queue.runDue();
    queue.cancel(fires);
    queue.cancel(12345);
    queue.cancel(-1);
    expect(queue.size).toBe(1);
    expect(queue.referenced).toBe(1);
    queue.cancel(stays);
    queue.cancel(stays);
    expect(queue.size).toBe(0);
    expect(queue.referenced).toBe(0);
    expect(fired).toEqual(['fired']);
  });

  it('does not fire a due timer cancelled by an earlier callback in the same pass', () => {
    const { clock, queue, fired } = setup();
    let victim = 0;
    queue.add(5, () => {
      fired.push('canceller');
      queue.cancel(victim);
    });
    victim = queue.add(10, () => fired.push('victim'));
    queue.add(10, () => fired.push('bystander'));
    clock.set(10);
    expect(queue.runDue()).toBe(2);
    expect(fired).toEqual(['canceller', 'bystander']);
    expect(queue.size).toBe(0);
  });

  it('can cancel a timer with the same deadline from inside a callback', () => {
    const { clock, queue, fired } = setup();
    let second = 0;
    queue.add(10, () => {
      fired.push('first');
      queue.cancel(second);
    });
    second = queue.add(10, () => fired.push('second'));
    clock.set(10);
    queue.runDue();
    expect(fired).toEqual(['first']);
  });

  it('lets a one-shot callback cancel its own, already retired, id', () => {
    const { queue, fired } = setup();
    let self = 0;
    self = queue.add(0, () => {
      fired.push('self');
      queue.cancel(self);
    });
    const other = queue.add(50, () => {});
    queue.runDue();
    expect(fired).toEqual(['self']);
    expect(queue.has(other)).toBe(true);
    expect(queue.referenced).toBe(1);
  });
});

describe('TimerQueue periodic timers', () => {
  it('fires at a fixed rate: each deadline is the previous one plus the period', () => {
    const { clock, queue } = setup();
    const firedAt: number[] = [];
    queue.add(10, () => firedAt.push(clock.now()), 10);
    expect(queue.nextDeadline()).toBe(10);
    clock.set(10);
    queue.runDue();
    expect(queue.nextDeadline()).toBe(20);
    // Late by 3 ms: the next deadline stays on the grid (30), it does not drift to 33.
    clock.set(23);
    queue.runDue();
    expect(queue.nextDeadline()).toBe(30);
    clock.set(30);
    queue.runDue();
    expect(queue.nextDeadline()).toBe(40);
    expect(firedAt).toEqual([10, 23, 30]);
  });

  it('uses the delay for the first deadline and the period afterwards', () => {
    const { clock, queue } = setup();
    let count = 0;
    queue.add(5, () => count++, 100);
    clock.set(5);
    queue.runDue();
    expect(count).toBe(1);
    expect(queue.nextDeadline()).toBe(105);
  });

  it('fires once per pass, even when several periods are due', () => {
    const { clock, queue } = setup();
    let count = 0;
    queue.add(10, () => count++, 10);
    clock.set(55);
    expect(queue.runDue()).toBe(1);
    expect(count).toBe(1);
  });

  it('skips ahead to now + period after a long stall instead of firing a burst', () => {
    const { clock, queue } = setup();
    const firedAt: number[] = [];
    queue.add(10, () => firedAt.push(clock.now()), 10);
    clock.set(1005);
    queue.runDue();
    expect(queue.nextDeadline()).toBe(1015);
    // No catch-up: nothing more is due until 1015.
    clock.set(1014);
    expect(queue.runDue()).toBe(0);
    clock.set(1015);
    expect(queue.runDue()).toBe(1);
    expect(firedAt).toEqual([1005, 1015]);
    expect(queue.nextDeadline()).toBe(1025);
  });

  it('stays active and counted after firing', () => {
    const { clock, queue } = setup();
    const id = queue.add(10, () => {}, 10);
    clock.set(10);
    queue.runDue();
    expect(queue.has(id)).toBe(true);
    expect(queue.size).toBe(1);
    expect(queue.referenced).toBe(1);
  });

  it('stops after cancel', () => {
    const { clock, queue } = setup();
    let count = 0;
    const id = queue.add(10, () => count++, 10);
    clock.set(10);
    queue.runDue();
    queue.cancel(id);
    expect(queue.has(id)).toBe(false);
    expect(queue.size).toBe(0);
    expect(queue.referenced).toBe(0);
    expect(queue.nextDeadline()).toBeUndefined();
    clock.set(100);
    expect(queue.runDue()).toBe(0);
    expect(count).toBe(1);
  });

  it('stops when it cancels itself from its own callback', () => {
    const { clock, queue } = setup();
    let count = 0;
    let id = 0;
    id = queue.add(
      10,
      () => {
        count++;
        if (count === 2) queue.cancel(id);
      },
      10,
    );
    for (let time = 10; time <= 100; time += 10) {
      clock.set(time);
      queue.runDue();
    }
    expect(count).toBe(2);
    expect(queue.has(id)).toBe(false);
    expect(queue.referenced).toBe(0);
  });

  it('treats a non-positive or non-finite period as a one-shot timer', () => {
    const { clock, queue } = setup();
    const ids = [queue.add(10, () => {}, 0), queue.add(10, () => {}, -5), queue.add(10, () => {}, Number.NaN)];
    clock.set(10);
    expect(queue.runDue()).toBe(3);
    for (const id of ids) expect(queue.has(id)).toBe(false);
    expect(queue.size).toBe(0);
  });

  it('fires after timers that already had the deadline it is rescheduled to', () => {
    const { clock, queue, fired } = setup();
    queue.add(10, () => fired.push(`periodic@${clock.now()}`), 10);
    clock.set(5);
    queue.add(15, () => fired.push(`one-shot@${clock.now()}`));
    clock.set(10);
    queue.runDue();
    clock.set(20);
    queue.runDue();
    // Both are due at 20; the periodic timer got that deadline at 10, after the one-shot timer got it at 5.
    expect(fired).toEqual(['periodic@10', 'one-shot@20', 'periodic@20']);
  });

  it('interleaves with one-shot timers by deadline', () => {
    const { clock, queue, fired } = setup();
    queue.add(10, () => fired.push(`tick@${clock.now()}`), 10);
    queue.add(15, () => fired.push(`once@${clock.now()}`));
    for (let time = 5; time <= 30; time += 5) {
      clock.set(time);
      queue.runDue();
    }
    expect(fired).toEqual(['tick@10', 'once@15', 'tick@20', 'tick@30']);
  });
});

describe('TimerQueue timers added during a pass', () => {
  it('does not run a 0 ms timer added from inside a callback until the next pass', () => {
    const { queue, fired } = setup();
    queue.add(0, () => {
      fired.push('outer');
      queue.add(0, () => fired.push('inner'));
    });
    expect(queue.runDue()).toBe(1);
    expect(fired).toEqual(['outer']);
    expect(queue.size).toBe(1);
    expect(queue.runDue()).toBe(1);
    expect(fired).toEqual(['outer', 'inner']);
  });

  it('does not starve the caller when a callback keeps re-adding itself', () => {
    const { queue } = setup();
    let count = 0;
    const again = (): void => {
      count++;
      // The cap keeps a regression from hanging the test run.
      if (count < 100) queue.add(0, again);
    };
    queue.add(0, again);
    expect(queue.runDue()).toBe(1);
    expect(queue.runDue()).toBe(1);
    expect(queue.runDue()).toBe(1);
    expect(count).toBe(3);
  });

  it('uses the clock reading taken when the pass started', () => {
    const { clock, queue, fired } = setup();
    queue.add(10, () => {
      fired.push('first');
      clock.set(100);
    });
    queue.add(50, () => fired.push('second'));
    clock.set(10);
    expect(queue.runDue()).toBe(1);
    expect(fired).toEqual(['first']);
    expect(queue.runDue()).toBe(1);
    expect(fired).toEqual(['first', 'second']);
  });
});

describe('TimerQueue runDue callbacks', () => {
  it('runs between after every callback', () => {
    const { clock, queue, fired } = setup();
    queue.add(1, () => fired.push('a'));
    queue.add(2, () => fired.push('b'));
    queue.add(3, () => fired.push('c'));
    clock.set(3);
    queue.runDue(() => fired.push('between'));
    expect(fired).toEqual(['a', 'between', 'b', 'between', 'c', 'between']);
  });

  it('does not run between when nothing is due', () => {
    const { queue } = setup();
    queue.add(10, () => {});
    let calls = 0;
    expect(queue.runDue(() => calls++)).toBe(0);
    expect(calls).toBe(0);
  });

  it('hands a throwing callback to onError and still runs the other due timers', () => {
    const { clock, queue, fired } = setup();
    const failure = new Error('boom');
    const errors: unknown[] = [];
    queue.add(1, () => fired.push('before'));
    queue.add(2, () => {
      fired.push('thrower');
      throw failure;
    });
    queue.add(3, () => fired.push('after'));
    clock.set(3);
    const ran = queue.runDue(
      () => fired.push('between'),
      (error) => errors.push(error),
    );
    expect(ran).toBe(3);
    expect(errors).toEqual([failure]);
    expect(errors[0]).toBe(failure);
    expect(fired).toEqual(['before', 'between', 'thrower', 'between', 'after', 'between']);
    expect(queue.size).toBe(0);
  });

  it('keeps a throwing periodic timer scheduled', () => {
    const { clock, queue } = setup();
    const errors: unknown[] = [];
    const id = queue.add(
      10,
      () => {
        throw new Error('tick failed');
      },
      10,
    );
    clock.set(10);
    queue.runDue(undefined, (error) => errors.push(error));
    expect(errors).toHaveLength(1);
    expect(queue.has(id)).toBe(true);
    expect(queue.nextDeadline()).toBe(20);
  });

  it('rethrows by default and leaves the remaining timers for the next pass', () => {
    const { queue, fired } = setup();
    const failure = new Error('default handler');
    queue.add(0, () => {
      throw failure;
    });
    queue.add(0, () => fired.push('later'));
    expect(() => queue.runDue()).toThrow(failure);
    expect(fired).toEqual([]);
    expect(queue.size).toBe(1);
    expect(queue.runDue()).toBe(1);
    expect(fired).toEqual(['later']);
  });
});

describe('TimerQueue bookkeeping', () => {
  it('nextDeadline ignores cancelled timers', () => {
    const { queue } = setup();
    const early = queue.add(10, () => {});
    const middle = queue.add(20, () => {});
    queue.add(30, () => {});
    expect(queue.nextDeadline()).toBe(10);
    queue.cancel(early);
    expect(queue.nextDeadline()).toBe(20);
    queue.cancel(middle);
    expect(queue.nextDeadline()).toBe(30);
  });

  it('nextDeadline is undefined for an empty queue and after everything is cancelled', () => {
    const { queue } = setup();
    expect(queue.nextDeadline()).toBeUndefined();
    const ids = [queue.add(10, () => {}), queue.add(20, () => {}, 20)];
    for (const id of ids) queue.cancel(id);
    expect(queue.nextDeadline()).toBeUndefined();
  });

  it('nextDeadline ignores a timer cancelled deep in the heap once it reaches the top', () => {
    const { clock, queue } = setup();
    const ids: number[] = [];
    for (let index = 0; index < 20; index++) ids.push(queue.add(index * 10, () => {}));
    for (const id of ids.slice(1, 10)) queue.cancel(id);
    clock.set(0);
    queue.runDue();
    expect(queue.nextDeadline()).toBe(100);
  });

  it('counts active and referenced timers', () => {
    const { clock, queue } = setup();
    expect(queue.size).toBe(0);
    expect(queue.referenced).toBe(0);
    const first = queue.add(10, () => {});
    const second = queue.add(20, () => {});
    queue.add(30, () => {}, 30);
    expect(queue.size).toBe(3);
    expect(queue.referenced).toBe(3);
    queue.setReferenced(first, false);
    expect(queue.size).toBe(3);
    expect(queue.referenced).toBe(2);
    queue.cancel(second);
    expect(queue.size).toBe(2);
    expect(queue.referenced).toBe(1);
    clock.set(10);
    queue.runDue();
    // The unreferenced timer fired: the referenced count must not drop again.
    expect(queue.size).toBe(1);
    expect(queue.referenced).toBe(1);
  });

  it('setReferenced is idempotent and can re-reference a timer', () => {
    const { queue } = setup();
    const id = queue.add(10, () => {});
    queue.setReferenced(id, false);
    queue.setReferenced(id, false);
    expect(queue.referenced).toBe(0);
    queue.setReferenced(id, true);
    queue.setReferenced(id, true);
    expect(queue.referenced).toBe(1);
  });

  it('setReferenced ignores unknown and finished ids', () => {
    const { queue } = setup();
    const fired = queue.add(0, () => {});
    queue.add(10, () => {});
    queue.runDue();
    queue.setReferenced(fired, false);
    queue.setReferenced(999, false);
    expect(queue.referenced).toBe(1);
    queue.setReferenced(fired, true);
    expect(queue.referenced).toBe(1);
  });

  it('does not count a cancelled unreferenced timer twice', () => {
    const { queue } = setup();
    const unreferenced = queue.add(10, () => {});
    queue.add(10, () => {});
    queue.setReferenced(unreferenced, false);
    queue.cancel(unreferenced);
    expect(queue.referenced).toBe(1);
    expect(queue.size).toBe(1);
  });

  it('an unreferenced timer still fires', () => {
    const { clock, queue, fired } = setup();
    const id = queue.add(10, () => fired.push('unreferenced'));
    queue.setReferenced(id, false);
    clock.set(10);
    queue.runDue();
    expect(fired).toEqual(['unreferenced']);
  });

  it('has reports only active timers', () => {
    const { clock, queue } = setup();
    const oneShot = queue.add(10, () => {});
    const periodic = queue.add(10, () => {}, 10);
    const cancelled = queue.add(10, () => {});
    queue.cancel(cancelled);
    expect(queue.has(oneShot)).toBe(true);
    expect(queue.has(periodic)).toBe(true);
    expect(queue.has(cancelled)).toBe(false);
    expect(queue.has(424242)).toBe(false);
    clock.set(10);
    queue.runDue();
    expect(queue.has(oneShot)).toBe(false);
    expect(queue.has(periodic)).toBe(true);
  });
});

describe('TimerQueue randomized ordering', () => {
  for (const seed of [1, 42, 2024, 0xdeadbeef]) {
    it(`matches a sorted reference model (seed ${seed})`, () => {
      const random = createRandom(seed);
      const { clock, queue } = setup();
      interface Expected {
        deadline: number;
        creation: number;
      }
      const model: Expected[] = [];
      const fired: { creation: number; pass: number }[] = [];
      const passTimes: number[] = [];
      const ids: number[] = [];
      const cancelled = new Set<number>();
      const count = 2000;

      for (let creation = 0; creation < count; creation++) {
        // Occasionally move the clock while adding so delays and deadlines differ.
        if (random(10) === 0) clock.advance(random(5));
        // A small range of delays guarantees many equal deadlines.
        const delay = random(200);
        const deadline = clock.now() + delay;
        model.push({ deadline, creation });
        ids.push(queue.add(delay, () => fired.push({ creation, pass: passTimes.length - 1 })));
      }
      for (let creation = 0; creation < count; creation++) {
        if (random(7) === 0) {
          cancelled.add(creation);
          queue.cancel(ids[creation]!);
        }
      }
      expect(queue.size).toBe(count - cancelled.size);

      const expected = model
        .filter((entry) => !cancelled.has(entry.creation))
        .sort((a, b) => a.deadline - b.deadline || a.creation - b.creation);

      let passes = 0;
      while (queue.size > 0) {
        const next = queue.nextDeadline();
        expect(next).toBeDefined();
        clock.advance(random(12));
        passTimes.push(clock.now());
        queue.runDue();
        passes++;
        expect(passes).toBeLessThan(10_000);
      }

      expect(fired.map((entry) => entry.creation)).toEqual(expected.map((entry) => entry.creation));
      // Every timer fired at or after its deadline, and in the first pass at which it was due.
      for (const [index, entry] of fired.entries()) {
        const deadline = expected[index]!.deadline;
        expect(passTimes[entry.pass]).toBeGreaterThanOrEqual(deadline);
        if (entry.pass > 0) expect(passTimes[entry.pass - 1]).toBeLessThan(deadline);
      }
      expect(queue.nextDeadline()).toBeUndefined();
      expect(queue.referenced).toBe(0);
    });
  }

  it('keeps heap order while timers are added and cancelled between passes', () => {
    const random = createRandom(7);
    const { clock, queue } = setup();
    const pending = new Map<number, { deadline: number; creation: number }>();
    const fired: number[] = [];
    let creation = 0;
    for (let round = 0; round < 300; round++) {
      for (let added = random(8); added > 0; added--) {
        const delay = random(50);
        const id = creation++;
        const timerId = queue.add(delay, () => {
          fired.push(id);
          pending.delete(timerId);
        });
        pending.set(timerId, { deadline: clock.now() + delay, creation: id });
      }
      if (pending.size > 0 && random(3) === 0) {
        const keys = [...pending.keys()];
        const victim = keys[random(keys.length)]!;
        queue.cancel(victim);
        pending.delete(victim);
      }
      const due = [...pending.values()]
        .filter((entry) => entry.deadline <= clock.now())
        .sort((a, b) => a.deadline - b.deadline || a.creation - b.creation);
      const expectedDeadline = [...pending.values()].reduce<number | undefined>(
        (min, entry) => (min === undefined || entry.deadline < min ? entry.deadline : min),
        undefined,
      );
      expect(queue.nextDeadline()).toBe(expectedDeadline);
      fired.length = 0;
      queue.runDue();
      expect(fired).toEqual(due.map((entry) => entry.creation));
      clock.advance(random(10));
    }
  });
});
