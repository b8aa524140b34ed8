/**
 * The connection's timers, each a small object over the injected clock: the retransmission timer (RFC
 * 6298 §5) with a deadline that moves on every ACK, the delayed ACK (RFC 9293 §3.8.6.3, RFC 1122), and
 * keepalive (RFC 9293 §3.8.4). They decide when; the connection decides what is sent.
 */
import type { NetClock, TimerHandle } from '../../clock.js';
import type { KeepAliveOptions } from './options.js';

/**
 * The retransmission timer. Every ACK restarts it (RFC 6298 §5.3), so only the deadline moves: a clock
 * timer already set to fire no later stays, and on firing early it sets itself again for what is left
 * (a clock timer set and cancelled per ACK costs more than the ACK's other work in an image).
 */
export class RetransmitTimer {
  private handle: TimerHandle | undefined;
  /** When the timeout is due. */
  private deadline = 0;
  /** When the clock timer set for it fires (never later than `deadline`). */
  private firesAt = 0;
  /** The clock timer's callback, made on first use. */
  private fire: (() => void) | undefined;

  constructor(
    private readonly clock: NetClock,
    /** Told when the timeout is due (an object, not a closure: one fewer per connection). */
    private readonly owner: { timedOut(): void },
  ) {}

  get running(): boolean {
    return this.handle !== undefined;
  }

  /**
   * Starts the timer to expire `timeoutMs` from now, unless it is running (RFC 6298 §5.1); with
   * `restart`, moves a running timer's deadline to then (§5.3).
   */
  arm(timeoutMs: number, restart = false): void {
    if (this.handle && !restart) return;
    this.deadline = this.clock.now() + timeoutMs;
    if (this.handle && this.firesAt <= this.deadline) return;
    this.handle?.cancel();
    this.set(timeoutMs);
  }

  /** Stops it (RFC 6298 §5.2: everything outstanding was acknowledged). */
  cancel(): void {
    this.handle?.cancel();
    this.handle = undefined;
  }

  private set(delayMs: number): void {
    this.firesAt = this.clock.now() + delayMs;
    this.handle = this.clock.setTimer(
      delayMs,
      (this.fire ??= (): void => {
        this.handle = undefined;
        const left = this.deadline - this.clock.now();
        if (left > 0) this.set(left);
        else this.owner.timedOut();
      }),
    );
  }
}

/**
 * The delayed ACK: data that arrived is acknowledged within `delayMs`, unless an ACK goes out earlier
 * for another reason (then nothing is owed). The clock timer is left to lapse rather than cancelled when
 * an ACK goes out: cheaper than cancelling it every other segment; it finds nothing owed.
 */
/** In-order segments one ACK at the end of a receive batch may cover; beyond, it goes at once. */
const MAX_SEGMENTS_PER_ACK = 44;

export class DelayedAck {
  /** Data arrived that no ACK has covered yet. */
  owed = false;
  private handle: TimerHandle | undefined;
  /** The clock timer's callback, made on first use. */
  private fire: (() => void) | undefined;
  /** An ACK due now waits for the end of the receive batch (see `now`). */
  private waitingForBatch = false;
  /** The batch's end callback, made on first use. */
  private batchEnded: (() => void) | undefined;
  /** The 0 ms timer of `soon`, and its callback, made on first use. */
  private soonHandle: TimerHandle | undefined;
  private soonFire: (() => void) | undefined;

  constructor(
    private readonly clock: NetClock,
    private readonly delayMs: number,
    /** Sends the ACK (an object, not a closure: one fewer per connection). */
    private readonly owner: { sendAck(): void },
    /** The layer's offer to call `flush` at the end of the frames received together; false when it cannot. */
    private readonly atBatchEnd?: (flush: () => void) => boolean,
  ) {}

  /** An ACK is owed: sent when the timer fires, unless one goes out first. */
  schedule(): void {
    this.owed = true;
    if (this.handle) return; // set earlier: it fires sooner, which only acknowledges sooner
    this.handle = this.clock.setTimer(
      this.delayMs,
      (this.fire ??= (): void => {
        this.handle = undefined;
        if (this.owed) this.owner.sendAck();
      }),
    );
  }

  /**
   * An ACK is due now: it goes at once, or, when the NIC hands frames in batches, at the end of this one,
   * so one ACK covers every segment of the batch (what Linux's GRO gives) unless one goes out first;
   * `segments` (in order, not yet acknowledged) at `MAX_SEGMENTS_PER_ACK` send it at once.
   */
  now(segments = 0): void {
    this.owed = true;
    // A batch's ACK covers at most as much as one coalesced frame would (about 64 KB, as GRO's).
    if (segments >= MAX_SEGMENTS_PER_ACK) {
      this.owner.sendAck();
      return;
    }
    if (this.waitingForBatch) return;
    const ended = (this.batchEnded ??= (): void => {
      this.waitingForBatch = false;
      if (this.owed) this.owner.sendAck();
    });
    if (this.atBatchEnd?.(ended)) {
      this.waitingForBatch = true;
      // Should the batch never end, the delayed ACK's timer still sends it.
      this.schedule();
    } else this.owner.sendAck();
  }

  /**
   * An ACK is due soon: after the work the segment set off has run (a 0 ms timer fires after the
   * receive callback and the promise jobs it queued), so an answer the application writes at once
   * carries it and no pure ACK goes out; with no answer, it goes alone a turn later.
   */
  soon(): void {
    this.owed = true;
    if (this.soonHandle) return;
    this.soonHandle = this.clock.setTimer(
      0,
      (this.soonFire ??= (): void => {
        this.soonHandle = undefined;
        if (this.owed) this.owner.sendAck();
      }),
    );
  }

  cancel(): void {
    this.owed = false;
    this.handle?.cancel();
    this.handle = undefined;
    this.soonHandle?.cancel();
    this.soonHandle = undefined;
  }
}

/**
 * Keepalive (RFC 9293 §3.8.4, off unless asked for): after `idleMs` without a segment from the peer, a
 * probe every `intervalMs`; after `probes` unanswered the connection is given up. Any segment from the
 * peer counts as an answer (`heard`).
 */
export class KeepAlive {
  private readonly idleMs: number;
  private readonly intervalMs: number;
  private readonly maxProbes: number;
  private lastHeard: number;
  private probes = 0;
  private handle: TimerHandle | undefined;

  constructor(
    private readonly clock: NetClock,
    options: KeepAliveOptions,
    private readonly actions: {
      /** Whether the connection still wants keepalives (not closed, not in TIME-WAIT). */
      alive(): boolean;
      probe(): void;
      expire(): void;
    },
  ) {
    this.idleMs = options.idleMs ?? 7_200_000;
    this.intervalMs = options.intervalMs ?? 75_000;
    this.maxProbes = options.probes ?? 9;
    this.lastHeard = clock.now();
  }

  /** A segment arrived from the peer. */
  heard(): void {
    this.lastHeard = this.clock.now();
    this.probes = 0;
  }

  /** (Re)starts the wait for the next probe. */
  start(): void {
    this.handle?.cancel();
    const wait = this.probes === 0 ? Math.max(0, this.idleMs - (this.clock.now() - this.lastHeard)) : this.intervalMs;
    this.handle = this.clock.setTimer(wait, () => this.due());
  }

  stop(): void {
    this.handle?.cancel();
    this.handle = undefined;
  }

  private due(): void {
    this.handle = undefined;
    if (!this.actions.alive()) return;
    if (this.probes === 0 && this.clock.now() - this.lastHeard < this.idleMs) {
      this.start();
      return;
    }
    if (this.probes >= this.maxProbes) {
      this.actions.expire();
      return;
    }
    this.probes++;
    this.actions.probe();
    this.start();
  }
}

/**
 * The wait of a closing state for the peer: FIN-WAIT-2's for its FIN (ended after a while without a
 * segment from it: `heard()` starts the wait again) and TIME-WAIT's 2 MSL (again from a retransmitted
 * FIN). One clock timer: not reset per segment, it sets itself again for what is left when it fires early.
 */
export class StateTimer {
  private handle: TimerHandle | undefined;
  private lastHeard = 0;
  private timeoutMs = 0;
  private readonly fire = (): void => {
    this.handle = undefined;
    const left = this.lastHeard + this.timeoutMs - this.clock.now();
    if (left > 0) this.handle = this.clock.setTimer(left, this.fire);
    else this.expired();
  };

  constructor(
    private readonly clock: NetClock,
    private readonly expired: () => void,
  ) {}

  /** Starts a wait of `timeoutMs` from now (the state changed). */
  start(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
    this.lastHeard = this.clock.now();
    this.handle?.cancel();
    this.handle = this.clock.setTimer(timeoutMs, this.fire);
  }

  heard(): void {
    this.lastHeard = this.clock.now();
  }

  stop(): void {
    this.handle?.cancel();
    this.handle = undefined;
  }
}
