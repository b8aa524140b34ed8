import { UosError } from '@uos/errors';

/**
 * How a stat stores its value. `u32` wraps modulo 2^32 like an unsigned C counter; `u64` is two u32
 * words with carry (exact up to 2^53 when read as a number, wrapping modulo 2^64); `f64` is a double.
 */
export type StatType = 'u32' | 'u64' | 'f64';

/** A counter only counts up (decrement is an error); a gauge goes up and down. */
export type StatKind = 'counter' | 'gauge';

/** How to create a stat. Defaults: `u32`, `counter`, not persistent. */
export interface StatOptions {
  type?: StatType;
  kind?: StatKind;
  /** Stored and reported only: IncludeOS keeps persistent stats across live update; uOS has none yet. */
  persistent?: boolean;
}

/**
 * The producer's handle on one stat: create it once, keep it, bump it on the hot path.
 *
 * A handle whose stat was freed must not be used: its slot may belong to another stat by then. The
 * registry zeroes a slot when it frees it and again when it reuses it, but writes through a stale handle
 * in between land in the new stat.
 */
export interface StatHandle {
  readonly name: string;
  readonly type: StatType;
  readonly kind: StatKind;
  readonly persistent: boolean;
  /**
   * Backing store and slot, for the hottest paths: `handle.array[handle.index]++` (u32 and f64 only).
   * For a u64 stat, `array[index]` is the low word and `array[index + 1]` the high word; writing the low
   * word directly skips the carry, so use `increment()` there, or `u64Words` and its carrying idiom.
   */
  readonly array: Uint32Array | Float64Array;
  readonly index: number;
  /**
   * The current value. u64 values read exactly up to 2^53 (Number.MAX_SAFE_INTEGER + 1), rounded to the
   * nearest double above. Writes wrap like the C counterpart: u32 modulo 2^32, u64 modulo 2^64 (integer
   * types expect integers; a fraction is dropped).
   */
  get value(): number;
  set value(value: number);
  /**
   * Adds `by` (default 1) to a counter or a gauge. For u32 and u64 stats `by` should be an integer of
   * magnitude at most 2^52 (u32) or 2^53 (u64); the sum wraps like an unsigned C integer. Never throws.
   */
  increment(by?: number): void;
  /**
   * Subtracts `by` (default 1) from a gauge; integer gauges wrap below zero like unsigned C integers
   * (use f64 for gauges that go negative). Throws `StatmanError` (`stat-not-gauge`) on a counter.
   */
  decrement(by?: number): void;
  /** Sets the value to 0. */
  reset(): void;
}

/** One stat as iteration reports it. */
export interface StatEntry {
  name: string;
  type: StatType;
  kind: StatKind;
  persistent: boolean;
  value: number;
}

/** How to construct a registry. */
export interface StatmanOptions {
  /** How many stats the registry holds, fixed for its lifetime (default 1024; at most 2^20). */
  capacity?: number;
}

/** Every `StatmanError` code. */
export type StatmanErrorCode =
  | 'stat-name-invalid'
  | 'stat-exists'
  | 'stat-type-mismatch'
  | 'statman-full'
  | 'stat-not-gauge'
  | 'stat-options-invalid'
  | 'statman-capacity-invalid';

/** The error statman throws; check it with `StatmanError.isInstance(e)` and narrow on `e.code`. */
export class StatmanError extends UosError<StatmanErrorCode> {
  static override readonly kind = 'StatmanError';
}

/**
 * The words of the registry's u64 statistics (one array for all of them), for per-packet paths: they count
 * `handle` inline, `if (++words[at] === 0x100000000) words[at + 1]++` with `at = handle.index`, which is
 * `handle.increment()` (the low word wraps, the high word carries) without a call, a method lookup and a
 * default argument per packet. Throws `stat-type-mismatch` for a stat that is not u64.
 */
export function u64Words(handle: StatHandle): Uint32Array {
  if (handle.type !== 'u64') throw new StatmanError('stat-type-mismatch', `${handle.name} is not a u64 statistic`);
  return handle.array as Uint32Array;
}

const defaultCapacity = 1024;
const maximumCapacity = 1 << 20;
const maximumNameLength = 64;
const twoTo32 = 4294967296;
const nameRule =
  'names are 1..64 characters in at least two dot-separated segments of [A-Za-z0-9_-], ' +
  'such as eth0.arp.requests_rx or kernel.timers.fired';

/** A-Z, a-z, 0-9, '_' and '-': the characters of a name's segments. */
function isSegmentCharacter(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || code === 45;
}

/**
 * Why `name` is not a valid stat name, or undefined when it is. One pass over the characters: no regular
 * expression or split, which the kernel would otherwise run (and QEMU translate) on every boot.
 */
function nameProblem(name: unknown): string | undefined {
  if (name === undefined || name === null) return `is ${String(name)}, not a string`;
  if (typeof name !== 'string') return `is a ${typeof name}, not a string`;
  if (name.length === 0) return 'is empty';
  if (name.length > maximumNameLength) return `is ${name.length} characters long`;
  let segments = 1;
  let segmentLength = 0;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code === 46) {
      if (segmentLength === 0) return 'has an empty segment';
      segments++;
      segmentLength = 0;
    } else if (isSegmentCharacter(code)) {
      segmentLength++;
    } else {
      const character = String.fromCodePoint(name.codePointAt(i)!);
      return `has the character ${JSON.stringify(character)}`;
    }
  }
  if (segmentLength === 0) return 'has an empty segment';
  if (segments < 2) return 'has only one segment';
  return undefined;
}

function describeName(name: unknown): string {
  return typeof name === 'string' ? `"${name}"` : String(name);
}

function describe(type: StatType, kind: StatKind): string {
  return `${type} ${kind}`;
}

function notGauge(handle: StatHandle): StatmanError {
  return new StatmanError(
    'stat-not-gauge',
    `stat "${handle.name}" is a ${describe(handle.type, handle.kind)}, which only counts up: decrement needs a gauge`,
  );
}

/** A u32 or f64 stat: one element of a shared Uint32Array or Float64Array (a u32 wraps modulo 2^32). */
class ElementStat implements StatHandle {
  private readonly gauge: boolean;

  constructor(
    readonly type: 'u32' | 'f64',
    readonly name: string,
    readonly kind: StatKind,
    readonly persistent: boolean,
    readonly array: Uint32Array | Float64Array,
    readonly index: number,
  ) {
    this.gauge = kind === 'gauge';
  }

  get value(): number {
    return this.array[this.index]!;
  }

  set value(value: number) {
    this.array[this.index] = value;
  }

  increment(by = 1): void {
    this.array[this.index] = this.array[this.index]! + by;
  }

  decrement(by = 1): void {
    if (!this.gauge) throw notGauge(this);
    this.array[this.index] = this.array[this.index]! - by;
  }

  reset(): void {
    this.array[this.index] = 0;
  }
}

/**
 * A u64 stat: two words (low, high) of a shared Uint32Array, with carry. No BigInt: it allocates in
 * QuickJS. Adding `by` splits it into words (exact for integers of magnitude up to 2^53) and carries once.
 */
class U64Stat implements StatHandle {
  readonly type = 'u64' as const;
  private readonly gauge: boolean;

  constructor(
    readonly name: string,
    readonly kind: StatKind,
    readonly persistent: boolean,
    readonly array: Uint32Array,
    readonly index: number,
  ) {
    this.gauge = kind === 'gauge';
  }

  get value(): number {
    return this.array[this.index + 1]! * twoTo32 + this.array[this.index]!;
  }

  set value(value: number) {
    const high = Math.floor(value / twoTo32);
    // Typed-array stores truncate and wrap modulo 2^32, so a negative value becomes its two's complement.
    this.array[this.index] = value - high * twoTo32;
    this.array[this.index + 1] = high;
  }

  increment(by = 1): void {
    const words = this.array;
    const low = this.index;
    // A count or a byte length (every packet's): one add and a carry, without splitting `by` into words.
    if (by >= 0 && by < twoTo32) {
      const sum = words[low]! + by;
      if (sum >= twoTo32) {
        words[low] = sum - twoTo32;
        words[low + 1] = words[low + 1]! + 1;
      } else {
        words[low] = sum;
      }
      return;
    }
    this.add(by);
  }

  decrement(by = 1): void {
    if (!this.gauge) throw notGauge(this);
    this.add(-by);
  }

  reset(): void {
    this.array[this.index] = 0;
    this.array[this.index + 1] = 0;
  }

  /** Adds a signed integer: split into words (floor, so negatives borrow), add the low words, carry. */
  private add(by: number): void {
    const words = this.array;
    const low = this.index;
    const byHigh = Math.floor(by / twoTo32);
    const sum = words[low]! + (by - byHigh * twoTo32);
    words[low] = sum;
    words[low + 1] = words[low + 1]! + byHigh + (sum >= twoTo32 ? 1 : 0);
  }
}

type Stat = ElementStat | U64Stat;

/**
 * A registry of typed statistics. Capacity is fixed at construction and the backing typed arrays are
 * allocated then (20 bytes per slot: one u32 word, two u64 words, one f64), so nothing grows at run time.
 * Slot `s` is word `s` of the u32 array, words `2s, 2s + 1` of the u64 array, element `s` of the f64 array.
 */
export class Statman {
  private readonly slots: number;
  private readonly u32Values: Uint32Array;
  private readonly u64Words: Uint32Array;
  private readonly f64Values: Float64Array;
  /** Live stats by name, in creation order (Map order). */
  private readonly byName = new Map<string, Stat>();
  /** Freed slots, reused last-freed first. */
  private readonly freeSlots: number[] = [];
  /** The lowest slot never handed out. */
  private nextSlot = 0;
  /** Run before iteration and snapshots, for producers whose counters live elsewhere. */
  private readonly collectors = new Set<() => void>();

  constructor(options: StatmanOptions = {}) {
    const capacity = options.capacity ?? defaultCapacity;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > maximumCapacity) {
      throw new StatmanError(
        'statman-capacity-invalid',
        `statman capacity ${String(capacity)} is invalid: it must be an integer from 1 to ${maximumCapacity}`,
      );
    }
    this.slots = capacity;
    this.u32Values = new Uint32Array(capacity);
    this.u64Words = new Uint32Array(capacity * 2);
    this.f64Values = new Float64Array(capacity);
  }

  /** Creates a stat. Throws `StatmanError`: `stat-name-invalid`, `stat-exists`, `statman-full`. */
  create(name: string, options: StatOptions = {}): StatHandle {
    const { type, kind, persistent } = this.checkOptions(name, options);
    const existing = this.byName.get(name);
    if (existing) {
      throw new StatmanError(
        'stat-exists',
        `stat "${name}" exists already as ${describe(existing.type, existing.kind)}; getOrCreate shares it, or free it first`,
      );
    }
    return this.add(name, type, kind, persistent);
  }

  /**
   * The stat named `name` when its type and kind match `options` (its `persistent` flag stays as first
   * created), or a new one. Throws `StatmanError`: `stat-type-mismatch`, plus those of `create`.
   */
  getOrCreate(name: string, options: StatOptions = {}): StatHandle {
    const { type, kind, persistent } = this.checkOptions(name, options);
    const existing = this.byName.get(name);
    if (!existing) return this.add(name, type, kind, persistent);
    if (existing.type !== type || existing.kind !== kind) {
      throw new StatmanError(
        'stat-type-mismatch',
        `stat "${name}" exists as ${describe(existing.type, existing.kind)}, not ${describe(type, kind)}`,
      );
    }
    return existing;
  }

  /** The stat named `name`, or undefined. */
  get(name: string): StatHandle | undefined {
    return this.byName.get(name);
  }

  /** Whether a stat named `name` exists. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Frees a stat by name or handle; its slot is zeroed and becomes reusable, and its name may be created
   * again with any type. Returns false when there is no such stat (a stale handle whose name now belongs
   * to another stat frees nothing). The freed handle must not be used afterwards.
   */
  free(nameOrHandle: string | StatHandle): boolean {
    const name = typeof nameOrHandle === 'string' ? nameOrHandle : nameOrHandle.name;
    const stat = this.byName.get(name);
    if (!stat || (typeof nameOrHandle !== 'string' && stat !== nameOrHandle)) return false;
    const slot = this.slotOf(stat);
    this.byName.delete(name);
    this.clearSlot(stat.type, slot);
    this.freeSlots.push(slot);
    return true;
  }

  /** How many stats exist. */
  get size(): number {
    return this.byName.size;
  }

  /** How many stats the registry can hold. */
  get capacity(): number {
    return this.slots;
  }

  /**
   * Registers a collector: a function run before every iteration and snapshot that brings stats whose
   * source counts elsewhere (a native counter, a device register) up to date. Collectors that throw are
   * skipped for that round. Returns the remover.
   */
  addCollector(collect: () => void): () => void {
    this.collectors.add(collect);
    return () => {
      this.collectors.delete(collect);
    };
  }

  private collect(): void {
    for (const collect of [...this.collectors]) {
      try {
        collect();
      } catch {
        // A broken collector must not take the whole registry's report with it.
      }
    }
  }

  /** Every stat as `{ name, type, kind, persistent, value }`, in creation order. */
  *[Symbol.iterator](): IterableIterator<StatEntry> {
    this.collect();
    for (const stat of this.byName.values()) {
      yield { name: stat.name, type: stat.type, kind: stat.kind, persistent: stat.persistent, value: stat.value };
    }
  }

  /** Every stat's value by name, in creation order: a fresh plain object, ready for JSON. */
  snapshot(): Record<string, number> {
    this.collect();
    const values: Record<string, number> = {};
    for (const stat of this.byName.values()) values[stat.name] = stat.value;
    return values;
  }

  /** The snapshot, so `JSON.stringify(statman)` gives every value by name. */
  toJSON(): Record<string, number> {
    return this.snapshot();
  }

  private checkOptions(name: string, options: StatOptions): Required<StatOptions> {
    const problem = nameProblem(name);
    if (problem !== undefined) {
      throw new StatmanError('stat-name-invalid', `stat name ${describeName(name)} ${problem}: ${nameRule}`);
    }
    const { type = 'u32', kind = 'counter', persistent = false } = options;
    if (type !== 'u32' && type !== 'u64' && type !== 'f64') {
      throw new StatmanError('stat-options-invalid', `stat "${name}": type ${String(type)} is not u32, u64 or f64`);
    }
    if (kind !== 'counter' && kind !== 'gauge') {
      throw new StatmanError('stat-options-invalid', `stat "${name}": kind ${String(kind)} is not counter or gauge`);
    }
    return { type, kind, persistent: persistent === true };
  }

  private add(name: string, type: StatType, kind: StatKind, persistent: boolean): Stat {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.nextSlot >= this.slots) {
        throw new StatmanError(
          'statman-full',
          `statman is full (capacity ${this.slots} stats): cannot create "${name}"; free a stat or construct ` +
            'a registry with a larger capacity',
        );
      }
      slot = this.nextSlot++;
    }
    // A stale handle of the slot's previous stat may have written since it was freed.
    this.clearSlot(type, slot);
    let stat: Stat;
    if (type === 'u32') stat = new ElementStat('u32', name, kind, persistent, this.u32Values, slot);
    else if (type === 'u64') stat = new U64Stat(name, kind, persistent, this.u64Words, slot * 2);
    else stat = new ElementStat('f64', name, kind, persistent, this.f64Values, slot);
    this.byName.set(name, stat);
    return stat;
  }

  private slotOf(stat: Stat): number {
    return stat.type === 'u64' ? stat.index / 2 : stat.index;
  }

  private clearSlot(type: StatType, slot: number): void {
    if (type === 'u32') this.u32Values[slot] = 0;
    else if (type === 'u64') {
      this.u64Words[slot * 2] = 0;
      this.u64Words[slot * 2 + 1] = 0;
    } else this.f64Values[slot] = 0;
  }
}

const registryKey = Symbol.for('uos.statman');

/** The registry installed on `globalThis` by the first copy of this package in the bundle. */
function sharedRegistry(): Statman {
  const holder = globalThis as unknown as Record<symbol, Statman | undefined>;
  const existing = holder[registryKey];
  if (existing !== undefined) return existing;
  const created = new Statman();
  Object.defineProperty(globalThis, registryKey, { value: created, writable: false, enumerable: false, configurable: false });
  return created;
}

/**
 * The process-wide registry (default capacity), shared by every copy of this package in a bundle through
 * `globalThis[Symbol.for('uos.statman')]`.
 */
export const statman: Statman = /* @__PURE__ */ sharedRegistry();
