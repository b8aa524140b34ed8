import { describe, expect, it } from 'vitest';
import { EventLoop, type EventLoopHost, eventLoop } from './event-loop.js';

/** A host whose clock, microtask queue and raised interrupts the test controls. */
class FakeHost implements EventLoopHost {
  time = 0;
  pending: number[] = [];
  readonly log: string[] = [];
  microtaskRuns = 0;

  now(): number {
    return this.time;
  }

  runMicrotasks(): void {
    this.microtaskRuns++;
    this.log.push('microtasks');
  }

  takeInterrupts(): number[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }

  raise(...vectors: number[]): void {
    this.pending.push(...vectors);
  }
}

function setup(): { host: FakeHost; loop: EventLoop; idle: { count: number } } {
  const host = new FakeHost();
  const loop = new EventLoop(host);
  const idle = { count: 0 };
  loop.onIdle = () => {
    idle.count++;
  };
  return { host, loop, idle };
}

describe('EventLoop interrupts', () => {
  it('runs the subscribers of pending vectors in subscription order', () => {
    const { host, loop } = setup();
    loop.subscribe(33, (vector) => host.log.push(`first ${vector}`));
    loop.subscribe(33, (vector) => host.log.push(`second ${vector}`));
    loop.subscribe(34, (vector) => host.log.push(`other ${vector}`));
    host.raise(33);
    loop.turn();
    expect(host.log).toEqual(['first 33', 'microtasks', 'second 33', 'microtasks']);
  });

  it('runs vectors in the order the host reports them', () => {
    const { host, loop } = setup();
    loop.subscribe(40, () => host.log.push('forty'));
    loop.subscribe(41, () => host.log.push('forty-one'));
    host.raise(41, 40);
    loop.turn();
    expect(host.log).toEqual(['forty-one', 'microtasks', 'forty', 'microtasks']);
  });

  it('does nothing for vectors without subscribers', () => {
    const { host, loop } = setup();
    loop.subscribe(1, () => host.log.push('one'));
    host.raise(2, 3);
    loop.turn();
    expect(host.log).toEqual([]);
    expect(host.microtaskRuns).toBe(0);
  });

  it('runs a subscriber only in turns where its vector was raised', () => {
    const { host, loop } = setup();
    let calls = 0;
    loop.subscribe(5, () => calls++);
    loop.turn();
    expect(calls).toBe(0);
    host.raise(5);
    loop.turn();
    expect(calls).toBe(1);
    loop.turn();
    expect(calls).toBe(1);
  });

  it('stops calling a handler after unsubscribe, keeping the others', () => {
    const { host, loop } = setup();
    const unsubscribe = loop.subscribe(7, () => host.log.push('removed'));
    loop.subscribe(7, () => host.log.push('kept'));
    unsubscribe();
    host.raise(7);
    loop.turn();
    expect(host.log).toEqual(['kept', 'microtasks']);
  });

  it('does not call a handler an earlier handler of the same turn unsubscribed; one subscribed meanwhile runs from the next interrupt', () => {
    const { host, loop } = setup();
    let later: () => void = () => {};
    loop.subscribe(9, () => {
      host.log.push('first');
      later();
      loop.subscribe(9, () => host.log.push('added'));
    });
    later = loop.subscribe(9, () => host.log.push('unsubscribed'));
    host.raise(9);
    loop.turn();
    expect(host.log).toEqual(['first', 'microtasks']);
    host.log.length = 0;
    later = () => {};
    host.raise(9);
    loop.turn();
    expect(host.log).toEqual(['first', 'microtasks', 'added', 'microtasks']);
  });

  it('tolerates calling unsubscribe twice', () => {
    const { host, loop } = setup();
    const unsubscribe = loop.subscribe(7, () => host.log.push('handler'), { keepAlive: true });
    const other = loop.subscribe(8, () => {}, { keepAlive: true });
    unsubscribe();
    unsubscribe();
    expect(loop.alive()).toBe(true);
    other();
    expect(loop.alive()).toBe(false);
    host.raise(7);
    loop.turn();
    expect(host.log).toEqual([]);
  });

  it('runs interrupt subscribers before due timers', () => {
    const { host, loop } = setup();
    loop.timers.add(0, () => host.log.push('timer'));
    loop.subscribe(9, () => host.log.push('interrupt'));
    host.raise(9);
    loop.turn();
    expect(host.log).toEqual(['interrupt', 'microtasks', 'timer', 'microtasks']);
  });
});

describe('EventLoop timers', () => {
  it('runs due timers and drains microtasks after each one', () => {
    const { host, loop } = setup();
    loop.timers.add(10, () => host.log.push('a'));
    loop.timers.add(10, () => host.log.push('b'));
    loop.timers.add(20, () => host.log.push('later'));
    host.time = 10;
    loop.turn();
    expect(host.log).toEqual(['a', 'microtasks', 'b', 'microtasks']);
  });

  it('uses the host clock', () => {
    const { host, loop } = setup();
    host.time = 1234.5;
    expect(loop.now()).toBe(1234.5);
    loop.timers.add(10, () => {});
    expect(loop.timers.nextDeadline()).toBe(1244.5);
  });

  it('returns the next timer deadline from turn', () => {
    const { host, loop } = setup();
    loop.timers.add(10, () => {});
    loop.timers.add(25, () => {});
    expect(loop.turn()).toBe(10);
    host.time = 10;
    expect(loop.turn()).toBe(25);
  });

  it('returns undefined from turn when no timer is pending', () => {
    const { host, loop } = setup();
    expect(loop.turn()).toBeUndefined();
    loop.timers.add(5, () => {});
    host.time = 5;
    expect(loop.turn()).toBeUndefined();
  });

  it('returns the deadline of a periodic timer after it fired', () => {
    const { host, loop } = setup();
    loop.timers.add(10, () => {}, 10);
    host.time = 10;
    expect(loop.turn()).toBe(20);
  });
});

describe('EventLoop liveness', () => {
  it('is not alive when empty', () => {
    const { loop } = setup();
    expect(loop.alive()).toBe(false);
  });

  it('is alive while a referenced timer is pending', () => {
    const { host, loop } = setup();
    loop.timers.add(10, () => {});
    expect(loop.alive()).toBe(true);
    host.time = 10;
    loop.turn();
    expect(loop.alive()).toBe(false);
  });

  it('is not kept alive by an unreferenced timer', () => {
    const { loop } = setup();
    const id = loop.timers.add(10, () => {});
    loop.timers.setReferenced(id, false);
    expect(loop.alive()).toBe(false);
    loop.timers.setReferenced(id, true);
    expect(loop.alive()).toBe(true);
  });

  it('is alive while a handle is held', () => {
    const { loop } = setup();
    const release = loop.hold();
    expect(loop.alive()).toBe(true);
    release();
    expect(loop.alive()).toBe(false);
  });

  it('counts each handle separately and ignores a second release', () => {
    const { loop } = setup();
    const first = loop.hold();
    const second = loop.hold();
    first();
    first();
    expect(loop.alive()).toBe(true);
    second();
    expect(loop.alive()).toBe(false);
    second();
    expect(loop.alive()).toBe(false);
    const third = loop.hold();
    expect(loop.alive()).toBe(true);
    third();
    expect(loop.alive()).toBe(false);
  });

  it('is kept alive only by keepAlive subscriptions', () => {
    const { loop } = setup();
    const plain = loop.subscribe(1, () => {});
    expect(loop.alive()).toBe(false);
    const explicit = loop.subscribe(2, () => {}, { keepAlive: false });
    expect(loop.alive()).toBe(false);
    const kept = loop.subscribe(3, () => {}, { keepAlive: true });
    expect(loop.alive()).toBe(true);
    plain();
    explicit();
    expect(loop.alive()).toBe(true);
    kept();
    expect(loop.alive()).toBe(false);
  });

  it('counts several keepAlive subscriptions', () => {
    const { loop } = setup();
    const first = loop.subscribe(1, () => {}, { keepAlive: true });
    const second = loop.subscribe(1, () => {}, { keepAlive: true });
    first();
    expect(loop.alive()).toBe(true);
    second();
    expect(loop.alive()).toBe(false);
  });

  // A Set holds each handler once, but every keepAlive subscribe increments the counter. When the same
  // handler is subscribed twice to one vector, only the first unsubscribe deletes it from the Set; the
  // second finds nothing to delete and so never decrements (event-loop.ts, subscribe's returned
  // function). The loop then stays alive with no subscriber left and onIdle never runs.
  it('is no longer alive once every subscription of a reused handler is unsubscribed', () => {
    const { loop, idle } = setup();
    const handler = (): void => {};
    const plain = loop.subscribe(4, handler);
    const kept = loop.subscribe(4, handler, { keepAlive: true });
    plain();
    kept();
    expect(loop.alive()).toBe(false);
    loop.turn();
    expect(idle.count).toBe(1);
  });
});

describe('EventLoop onIdle', () => {
  it('runs onIdle at the end of a turn when nothing keeps the loop alive', () => {
    const { loop, idle } = setup();
    loop.turn();
    expect(idle.count).toBe(1);
  });

  it('does not run onIdle while a timer, handle or keepAlive subscription remains', () => {
    const { host, loop, idle } = setup();
    const timer = loop.timers.add(100, () => {});
    loop.turn();
    expect(idle.count).toBe(0);
    loop.timers.cancel(timer);

    const release = loop.hold();
    loop.turn();
    expect(idle.count).toBe(0);
    release();

    const unsubscribe = loop.subscribe(3, () => {}, { keepAlive: true });
    host.raise(3);
    loop.turn();
    expect(idle.count).toBe(0);
    unsubscribe();

    loop.turn();
    expect(idle.count).toBe(1);
  });

  it('runs onIdle after the last timer fired in the same turn', () => {
    const { host, loop, idle } = setup();
    loop.timers.add(10, () => host.log.push('last timer'));
    loop.onIdle = () => {
      idle.count++;
      host.log.push('idle');
    };
    host.time = 10;
    loop.turn();
    expect(host.log).toEqual(['last timer', 'microtasks', 'idle']);
    expect(idle.count).toBe(1);
  });

  it('runs onIdle while an unreferenced timer is pending, and still reports its deadline', () => {
    const { loop, idle } = setup();
    const id = loop.timers.add(50, () => {});
    loop.timers.setReferenced(id, false);
    expect(loop.turn()).toBe(50);
    expect(idle.count).toBe(1);
  });

  it('does not run onIdle when a callback in the turn takes a handle', () => {
    const { host, loop, idle } = setup();
    loop.timers.add(0, () => {
      loop.hold();
    });
    host.time = 0;
    loop.turn();
    expect(idle.count).toBe(0);
    expect(loop.alive()).toBe(true);
  });
});

describe('EventLoop errors outside an image', () => {
  it('throws the error of a throwing interrupt subscriber from turn', () => {
    const { host, loop } = setup();
    const failure = new Error('handler failed');
    loop.subscribe(11, () => {
      throw failure;
    });
    host.raise(11);
    expect(() => loop.turn()).toThrow(failure);
  });

  it('wraps a thrown non-error from a subscriber with the interrupt vector', () => {
    const { host, loop } = setup();
    loop.subscribe(12, () => {
      throw 'plain string';
    });
    host.raise(12);
    expect(() => loop.turn()).toThrow('Uncaught exception in the handler of interrupt 12: plain string');
  });

  it('does not run later subscribers once one has thrown', () => {
    const { host, loop } = setup();
    loop.subscribe(13, () => {
      throw new Error('first');
    });
    loop.subscribe(13, () => host.log.push('second'));
    host.raise(13);
    expect(() => loop.turn()).toThrow('first');
    expect(host.log).toEqual([]);
  });

  it('throws the error of a throwing timer callback from turn', () => {
    const { host, loop } = setup();
    const failure = new Error('timer failed');
    loop.timers.add(1, () => {
      throw failure;
    });
    host.time = 1;
    expect(() => loop.turn()).toThrow(failure);
  });

  it('wraps a thrown non-error from a timer callback', () => {
    const { host, loop } = setup();
    loop.timers.add(1, () => {
      throw 42;
    });
    host.time = 1;
    expect(() => loop.turn()).toThrow('Uncaught exception in a timer callback: 42');
  });
});

describe('eventLoop()', () => {
  it('is the one loop in the Symbol.for slot, so that two copies of the kernel in a bundle share it', () => {
    const key = Symbol.for('uos.kernel.event-loop');
    const holder = globalThis as unknown as Record<symbol, unknown>;
    const loop = new EventLoop(new FakeHost());
    holder[key] = loop;
    try {
      expect(eventLoop()).toBe(loop);
    } finally {
      delete holder[key];
    }
  });
});
