/**
 * A bad network between two devices, for tests: `injector.wrap(device)` gives a device whose transmitted
 * frames pass through seeded faults (drop, duplicate, reorder, corrupt, delay with jitter, a rate limit
 * with a bounded queue, a size limit) before they reach `device`. Same seed, same traffic, same faults.
 */
import { type NetClock, type RandomSource, seededRandom } from '../clock.js';
import { ETHERNET_HEADER_LENGTH } from '../wire/ethernet.js';
import type { LinkDevice, LinkTransmitResult } from '../iface/link-device.js';
import { NetError } from '../errors.js';

/** What the injector does to frames; every field is optional, and `configure` may change them later. */
export interface FaultOptions {
  /** Probability (0..1) that a frame is lost. */
  drop?: number;
  /** Probability (0..1) that a frame is sent twice (both copies identical, corruption included). */
  duplicate?: number;
  /** Probability (0..1) that a frame is held back until `reorderDistance` later frames have overtaken it. */
  reorder?: number;
  /** How many later frames overtake a held frame (1 by default). */
  reorderDistance?: number;
  /** Most frames held at once per direction; beyond it frames pass in order (8 by default). */
  reorderLimit?: number;
  /** A held frame is released after this long even if no frame overtakes it (10 ms by default). */
  reorderTimeoutMs?: number;
  /** Probability (0..1) that one random bit of one random byte of a frame is flipped. */
  corrupt?: number;
  /** Corrupt only bytes after the 14-byte Ethernet header (false by default: any byte). */
  corruptPayloadOnly?: boolean;
  /** Fixed delay added to every frame, in ms (0 by default). */
  delayMs?: number;
  /** Random extra delay, uniform in [0, jitterMs] ms; frames still leave in order (0 by default). */
  jitterMs?: number;
  /** Link rate in bytes of Ethernet frame per second; unlimited when undefined. */
  rateBytesPerSecond?: number;
  /** Bytes waiting for the rate-limited link at most; a frame that would exceed it is dropped (65536). */
  rateQueueBytes?: number;
  /** Frames longer than this many bytes are dropped (a path with a smaller MTU); unlimited when undefined. */
  maxFrameBytes?: number;
}

export interface FaultInjectorOptions extends FaultOptions {
  /** Seeds the injector's `seededRandom` (1 by default); ignored when `random` is given. */
  seed?: number;
  /** The source of chance, instead of `seededRandom(seed)`. */
  random?: RandomSource;
}

/** Counts of what the injector did, over every device it wraps. */
export interface FaultStats {
  /** Frames the stacks transmitted into the injector. */
  offered: number;
  /** Frames handed on to the wrapped devices (duplicates included). */
  passed: number;
  /** Frames handed on that the wrapped device refused. */
  refused: number;
  /** Frames lost to `drop`. */
  dropped: number;
  /** Extra copies made by `duplicate`. */
  duplicated: number;
  /** Frames held back by `reorder`. */
  reordered: number;
  /** Frames with a flipped bit. */
  corrupted: number;
  /** Frames given a delay above 0. */
  delayed: number;
  /** Frames dropped because the rate limiter's queue was full. */
  queueDropped: number;
  /** The most bytes the rate limiter's queue has held. */
  queuePeakBytes: number;
  /** Frames dropped by `maxFrameBytes`. */
  oversized: number;
}

interface InFlight {
  frame: Uint8Array;
  /** This frame's jitter draw, 0..1, drawn when it entered so the decisions do not depend on timing. */
  jitter: number;
}

interface Held {
  item: InFlight;
  overtakesLeft: number;
  timer: { cancel(): void };
}

const OK: LinkTransmitResult = { ok: true };
const TWO_TO_32 = 4294967296;

function checkProbability(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1))
    throw new NetError('invalid-option', `${name} must be a probability 0..1, not ${value}`);
}

function checkAtLeast(name: string, value: number | undefined, minimum: number, integer: boolean): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < minimum || (integer && !Number.isInteger(value))) {
    throw new NetError('invalid-option', `${name} must be ${integer ? 'an integer' : 'a finite number'} >= ${minimum}, not ${value}`);
  }
}

function validate(options: FaultOptions): void {
  checkProbability('drop', options.drop);
  checkProbability('duplicate', options.duplicate);
  checkProbability('reorder', options.reorder);
  checkProbability('corrupt', options.corrupt);
  checkAtLeast('reorderDistance', options.reorderDistance, 1, true);
  checkAtLeast('reorderLimit', options.reorderLimit, 0, true);
  checkAtLeast('reorderTimeoutMs', options.reorderTimeoutMs, 0, false);
  checkAtLeast('delayMs', options.delayMs, 0, false);
  checkAtLeast('jitterMs', options.jitterMs, 0, false);
  checkAtLeast('rateQueueBytes', options.rateQueueBytes, 0, true);
  checkAtLeast('maxFrameBytes', options.maxFrameBytes, 0, true);
  const rate = options.rateBytesPerSecond;
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0))
    throw new NetError('invalid-option', `rateBytesPerSecond must be > 0, not ${rate}`);
}

/** What a lane needs from its injector. */
interface LaneContext {
  readonly clock: NetClock;
  readonly stats: FaultStats;
  faults(): Readonly<FaultOptions>;
  /** A number uniform in [0, 1). */
  draw(): number;
}

/** A first-in first-out queue that does not shift arrays. */
class Queue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return item;
  }
}

/**
 * Faults between devices. Each `wrap` is one direction of a link with its own held frames, rate-limiter
 * queue and delay line; the random source and the statistics are shared. Per frame, in order: size limit,
 * drop, corrupt, duplicate, reorder, rate limit, delay, then the wrapped device. A frame that no fault
 * holds or delays reaches the device inside `transmit` (whose result the stack then gets); otherwise
 * `transmit` answers ok and the frame follows through the clock. Dropping is silent, like a wire.
 *
 * Every frame draws the same nine random numbers whatever the options, so the decisions for frame n
 * depend only on the seed and n. Options are checked (NetError) when given; after that the data path
 * does not throw on any frame.
 */
export class FaultInjector {
  readonly stats: FaultStats = {
    offered: 0,
    passed: 0,
    refused: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    delayed: 0,
    queueDropped: 0,
    queuePeakBytes: 0,
    oversized: 0,
  };
  private options: FaultOptions;
  private readonly lanes: Lane[] = [];
  private readonly context: LaneContext;

  constructor(
    readonly clock: NetClock,
    options: FaultInjectorOptions = {},
  ) {
    const { seed, random, ...faults } = options;
    validate(faults);
    this.options = { ...faults };
    const source = random ?? seededRandom(seed ?? 1);
    this.context = {
      clock,
      stats: this.stats,
      faults: () => this.options,
      draw: () => source.uint32() / TWO_TO_32,
    };
  }

  /** The faults now in force. */
  get faults(): Readonly<FaultOptions> {
    return this.options;
  }

  /** Changes faults from now on (a partition: `configure({ drop: 1 })`); frames already inside keep theirs. */
  configure(changes: FaultOptions): void {
    const next = { ...this.options, ...changes };
    validate(next);
    this.options = next;
  }

  /** A device that sends through the faults to `device` and receives from it unchanged. */
  wrap(device: LinkDevice): LinkDevice {
    const lane = new Lane(this.context, device);
    this.lanes.push(lane);
    return {
      name: device.name,
      mac: device.mac,
      mtu: device.mtu,
      transmit: (frame) => lane.transmit(frame),
      onReceive: (listener) => device.onReceive(listener),
      onWritable: (listener) => device.onWritable(listener),
    };
  }

  /** Frames inside the injector: held for reordering, queued for the rate limit or on the delay line. */
  get inFlight(): number {
    let total = 0;
    for (const lane of this.lanes) total += lane.inFlight;
    return total;
  }
}

/** One direction: the faults applied to frames transmitted through one wrapped device. */
class Lane {
  private readonly held: Held[] = [];
  private readonly rateQueue = new Queue<InFlight>();
  private rateQueueBytes = 0;
  /** When the rate-limited link finishes sending what it has accepted. */
  private linkFreeAt = 0;
  private readonly delayLine = new Queue<InFlight>();
  /** When the last frame on the delay line leaves; later frames never leave before it. */
  private delayLineLast = 0;

  constructor(
    private readonly context: LaneContext,
    private readonly device: LinkDevice,
  ) {}

  get inFlight(): number {
    return this.held.length + this.rateQueue.length + this.delayLine.length;
  }

  transmit(frame: Uint8Array): LinkTransmitResult {
    const { stats, draw } = this.context;
    const options = this.context.faults();
    stats.offered++;
    // Always the same draws, in the same order, so decisions line up frame by frame across option changes.
    const dropDraw = draw();
    const corruptDraw = draw();
    const corruptByteDraw = draw();
    const corruptBitDraw = draw();
    const duplicateDraw = draw();
    const reorderDraw = draw();
    const reorderCopyDraw = draw();
    const jitterDraw = draw();
    const jitterCopyDraw = draw();

    if (options.maxFrameBytes !== undefined && frame.length > options.maxFrameBytes) {
      stats.oversized++;
      return OK;
    }
    if (dropDraw < (options.drop ?? 0)) {
      stats.dropped++;
      return OK;
    }
    const copy = frame.slice();
    if (corruptDraw < (options.corrupt ?? 0)) {
      const start = options.corruptPayloadOnly ? ETHERNET_HEADER_LENGTH : 0;
      if (copy.length > start) {
        const index = start + Math.floor(corruptByteDraw * (copy.length - start));
        copy[index] = copy[index]! ^ (1 << Math.floor(corruptBitDraw * 8));
        stats.corrupted++;
      }
    }
    const duplicate = duplicateDraw < (options.duplicate ?? 0);
    const result = this.reorder({ frame: copy, jitter: jitterDraw }, reorderDraw);
    if (duplicate) {
      stats.duplicated++;
      this.reorder({ frame: copy.slice(), jitter: jitterCopyDraw }, reorderCopyDraw);
    }
    return result;
  }

  private reorder(item: InFlight, draw: number): LinkTransmitResult {
    const options = this.context.faults();
    if (draw < (options.reorder ?? 0) && this.held.length < (options.reorderLimit ?? 8)) {
      this.context.stats.reordered++;
      const held: Held = { item, overtakesLeft: options.reorderDistance ?? 1, timer: { cancel() {} } };
      held.timer = this.context.clock.setTimer(options.reorderTimeoutMs ?? 10, () => this.release(held));
      this.held.push(held);
      return OK;
    }
    const result = this.rateLimit(item);
    // This frame has overtaken every held one; those it was the last to overtake follow it, oldest first.
    const due: Held[] = [];
    for (const held of this.held) if (--held.overtakesLeft <= 0) due.push(held);
    for (const held of due) {
      held.timer.cancel();
      this.release(held);
    }
    return result;
  }

  private release(held: Held): void {
    const index = this.held.indexOf(held);
    if (index < 0) return;
    this.held.splice(index, 1);
    this.rateLimit(held.item);
  }

  private rateLimit(item: InFlight): LinkTransmitResult {
    const { clock, stats } = this.context;
    const options = this.context.faults();
    const rate = options.rateBytesPerSecond;
    // Without a rate, frames still queued from an earlier rate leave first.
    if (rate === undefined && this.rateQueue.length === 0) return this.delay(item);
    const length = item.frame.length;
    if (this.rateQueueBytes + length > (options.rateQueueBytes ?? 65536)) {
      stats.queueDropped++;
      return OK;
    }
    const now = clock.now();
    const sentAt = Math.max(now, this.linkFreeAt) + (rate === undefined ? 0 : (length * 1000) / rate);
    this.linkFreeAt = sentAt;
    this.rateQueue.push(item);
    this.rateQueueBytes += length;
    if (this.rateQueueBytes > stats.queuePeakBytes) stats.queuePeakBytes = this.rateQueueBytes;
    // Each timer sends the oldest queued frame, so order holds whatever order timers fire in.
    clock.setTimer(sentAt - now, () => {
      const next = this.rateQueue.shift();
      if (!next) return;
      this.rateQueueBytes -= next.frame.length;
      this.delay(next);
    });
    return OK;
  }

  private delay(item: InFlight): LinkTransmitResult {
    const { clock, stats } = this.context;
    const options = this.context.faults();
    const ms = (options.delayMs ?? 0) + item.jitter * (options.jitterMs ?? 0);
    if (ms <= 0 && this.delayLine.length === 0) return this.send(item.frame);
    if (ms > 0) stats.delayed++;
    const now = clock.now();
    const leavesAt = Math.max(now + ms, this.delayLineLast);
    this.delayLineLast = leavesAt;
    this.delayLine.push(item);
    clock.setTimer(leavesAt - now, () => {
      const next = this.delayLine.shift();
      if (next) this.send(next.frame);
    });
    return OK;
  }

  private send(frame: Uint8Array): LinkTransmitResult {
    const stats = this.context.stats;
    stats.passed++;
    const result = this.device.transmit(frame);
    if (!result.ok) stats.refused++;
    return result;
  }
}
