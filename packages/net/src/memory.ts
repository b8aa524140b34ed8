/**
 * The stack's memory budget, as Linux's tcp_mem: one total for what the network may make the stack hold
 * (connections and their buffers, TIME-WAIT records, out-of-order data, IP reassembly, frames waiting
 * for ARP), charged by every layer in bytes that stand for what the objects really cost (a buffer's
 * bytes plus its object overhead, a connection's fixed cost), so that the heap can never be exhausted
 * from the network: the budget refuses first.
 *
 * - Below `pressureBytes` everything is granted up to the hard limit.
 * - From `pressureBytes` on the stack is under pressure: new connections are refused (the SYN dropped,
 *   counted), TIME-WAIT records are recycled oldest first, and receive windows stop growing (a
 *   connection offers at most `receiveAllowance` beyond what it holds; the right edge already offered
 *   never moves left).
 * - At `limitBytes` `reserve` refuses: writes take nothing more, data beyond what can be held is dropped
 *   (the peer sends it again), receive windows offer nothing new.
 *
 * Charges that must succeed (a segment already promised room by the window, an object already made)
 * use `charge`, which may pass the limit by that much; everything the peer can make the stack allocate
 * beyond that goes through `reserve`.
 */
import type { StatHandle } from '@uos/statman';
import { isRunningOnUos, native } from '@uos/x86';
import { NetError } from './errors.js';

/**
 * What a held Uint8Array costs beyond its bytes, measured in the guest: the typed array and ArrayBuffer
 * objects and the allocator's rounding of the data (a view on someone else's bytes costs less).
 */
export const BUFFER_OVERHEAD_BYTES = 512;
export const VIEW_OVERHEAD_BYTES = 192;

/** What a connection may hold received, and offer as its window, while the budget is under pressure (Linux: 4 MSS). */
const PRESSURE_ALLOWANCE_BYTES = 4 * 1460;
/** Writers starved of memory are woken when this much is free again (twice what a drain asks for). */
const WAKE_BYTES = 32 * 1024;

export interface MemoryOptions {
  /**
   * Bytes the stack may hold for what peers make it keep: connections (a fixed cost each), their send,
   * receive and out-of-order buffers, TIME-WAIT records, IP reassembly, frames waiting for ARP or for the
   * device. Default: half the VM's free memory when the Inet is made (in an image), 64 MiB elsewhere.
   */
  budgetBytes?: number;
  /** The share of the budget from which the stack is under pressure (default 0.75). */
  pressureRatio?: number;
  /**
   * The memory free for the stack, which the budget and the limits must fit in: measured in an image
   * (the VM's free pages when the Inet is made); unknown elsewhere unless given (tests give it).
   */
  availableBytes?: number;
}

/** The default budget: this share of the free memory (the service and the engine's collector need the rest). */
export const DEFAULT_BUDGET_SHARE = 0.5;
/** The default budget outside an image, where the VM's memory is unknown. */
export const DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024;
/** The least budget the stack runs with. */
export const MIN_BUDGET_BYTES = 256 * 1024;

/** The VM's free memory now in an image; undefined elsewhere. */
export function vmFreeBytes(): number | undefined {
  return isRunningOnUos() ? native().memoryUsage().freeBytes : undefined;
}

const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/**
 * The budget for `options`: as given, or sized from the memory available. Throws a NetError
 * ('insufficient-memory') when the memory available cannot hold it: a VM started with too little memory
 * for what the service asks says so when the Inet is made, at boot, rather than failing under load.
 */
export function createBudget(options: MemoryOptions = {}): MemoryBudget {
  const available = options.availableBytes ?? vmFreeBytes();
  let budgetBytes = options.budgetBytes;
  if (budgetBytes !== undefined) {
    if (available !== undefined && budgetBytes > available) {
      throw new NetError(
        'insufficient-memory',
        `the network stack's memory budget (memory.budgetBytes) is ${mib(budgetBytes)}, but only ${mib(available)} of the VM's memory is free: give the VM more memory (vm.json "mem", uos boot -m) or lower the budget`,
      );
    }
  } else {
    budgetBytes = available === undefined ? DEFAULT_BUDGET_BYTES : Math.floor(available * DEFAULT_BUDGET_SHARE);
    if (budgetBytes < MIN_BUDGET_BYTES) {
      throw new NetError(
        'insufficient-memory',
        `the network stack needs a memory budget of at least ${mib(MIN_BUDGET_BYTES)} (half the free memory by default), but only ${mib(available ?? 0)} of the VM's memory is free: give the VM more memory (vm.json "mem", uos boot -m)`,
      );
    }
  }
  return new MemoryBudget({ ...options, budgetBytes });
}

/**
 * Checks that `count` things of `each` bytes, as a limit `name` allows, fit the part of `budget` they
 * may use (below the pressure mark); throws a NetError ('insufficient-memory') saying so otherwise.
 */
export function checkLimit(budget: MemoryBudget, name: string, count: number, each: number): void {
  if (!Number.isFinite(count) || count * each <= budget.pressureBytes) return;
  throw new NetError(
    'insufficient-memory',
    `${name} is ${count}, which needs ${mib(count * each)} (${each} bytes each), but the network stack's memory budget allows ${mib(budget.pressureBytes)} for them (${Math.floor(budget.pressureBytes / each)} at most) of ${mib(budget.limitBytes)}: give the VM more memory (vm.json "mem", uos boot -m), raise memory.budgetBytes, or lower ${name}`,
  );
}

/** The gauges and counters the budget keeps up to date (`<ifname>.memory.*`). */
export interface MemoryStats {
  budget_bytes: StatHandle;
  used_bytes: StatHandle;
  peak_bytes: StatHandle;
  pressure_entered: StatHandle;
  refused: StatHandle;
}

/** One consumer's share: what it charged, for statistics, through the budget. */
export class MemoryAccount {
  /** Bytes this consumer holds charged now, and at most. */
  bytes = 0;
  peak = 0;

  constructor(
    readonly budget: MemoryBudget,
    private readonly gauge?: StatHandle,
    private readonly peakGauge?: StatHandle,
  ) {}

  /** Charges `bytes` if the budget has room below its limit; false (nothing charged) otherwise. */
  reserve(bytes: number): boolean {
    if (!this.budget.reserve(bytes)) return false;
    this.add(bytes);
    return true;
  }

  /** Charges `bytes` whatever the budget says (memory already taken). */
  charge(bytes: number): void {
    this.budget.charge(bytes);
    this.add(bytes);
  }

  release(bytes: number): void {
    this.budget.release(bytes);
    this.bytes -= bytes;
    if (this.gauge) this.gauge.value = this.bytes;
  }

  /** Charges `delta` (whatever the budget says), or releases it when negative. */
  adjust(delta: number): void {
    if (delta > 0) this.charge(delta);
    else if (delta < 0) this.release(-delta);
  }

  private add(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.peak) {
      this.peak = this.bytes;
      if (this.peakGauge) this.peakGauge.value = this.peak;
    }
    if (this.gauge) this.gauge.value = this.bytes;
  }
}

/** The stack's memory budget (see the top of this file). One per Inet unless several share one. */
export class MemoryBudget {
  readonly limitBytes: number;
  readonly pressureBytes: number;
  /** Bytes charged now, and at most. */
  used = 0;
  peak = 0;
  /** What a connection may hold received plus offer as window (Infinity unless under pressure). */
  receiveAllowance = Number.POSITIVE_INFINITY;
  private pressure = false;
  private stats: MemoryStats | undefined;
  /** Called once when memory frees (see `whenRoom`). */
  private waiters: (() => void)[] = [];

  constructor(options: MemoryOptions & { budgetBytes: number }) {
    const { budgetBytes } = options;
    if (!Number.isFinite(budgetBytes) || budgetBytes < 64 * 1024) {
      throw new NetError('invalid-option', `memory.budgetBytes must be at least 64 KiB, not ${budgetBytes}`);
    }
    const ratio = options.pressureRatio ?? 0.75;
    if (!(ratio > 0 && ratio <= 1)) throw new NetError('invalid-option', `memory.pressureRatio must be in (0, 1], not ${ratio}`);
    this.limitBytes = Math.floor(budgetBytes);
    this.pressureBytes = Math.floor(budgetBytes * ratio);
  }

  /** Reports into these statistics from now on (an Inet attaches its own when the budget has none yet). */
  attach(stats: MemoryStats): void {
    if (this.stats) return;
    this.stats = stats;
    stats.budget_bytes.value = this.limitBytes;
    this.report();
  }

  /** A consumer's account: its charges go through the budget, and its bytes into `gauge`. */
  account(gauge?: StatHandle, peakGauge?: StatHandle): MemoryAccount {
    return new MemoryAccount(this, gauge, peakGauge);
  }

  get underPressure(): boolean {
    return this.pressure;
  }

  /** Bytes left below the hard limit. */
  get free(): number {
    return Math.max(0, this.limitBytes - this.used);
  }

  /** Charges `bytes` if that stays within the limit; false (and counted) otherwise. */
  reserve(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) {
      if (this.stats) this.stats.refused.increment();
      return false;
    }
    this.charge(bytes);
    return true;
  }

  /** Charges `bytes` whatever the limit says. */
  charge(bytes: number): void {
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    if (!this.pressure && this.used >= this.pressureBytes) this.enterPressure();
    else if (this.used >= this.limitBytes) this.receiveAllowance = 0;
    this.report();
  }

  release(bytes: number): void {
    this.used -= bytes;
    if (this.waiters.length && this.limitBytes - this.used >= WAKE_BYTES) this.wake();
    if (this.pressure) {
      if (this.used < this.pressureBytes) {
        this.pressure = false;
        this.receiveAllowance = Number.POSITIVE_INFINITY;
      } else if (this.used < this.limitBytes) {
        this.receiveAllowance = PRESSURE_ALLOWANCE_BYTES;
      }
    }
    this.report();
  }

  /**
   * Calls `waiter` once, the next time memory is released and at least 32 KiB are free below the limit
   * (never from inside this call: a writer is not woken inside its own write).
   */
  whenRoom(waiter: () => void): void {
    this.waiters.push(waiter);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private enterPressure(): void {
    this.pressure = true;
    this.receiveAllowance = this.used >= this.limitBytes ? 0 : PRESSURE_ALLOWANCE_BYTES;
    if (this.stats) this.stats.pressure_entered.increment();
  }

  private report(): void {
    const stats = this.stats;
    if (!stats) return;
    stats.used_bytes.value = this.used;
    stats.peak_bytes.value = this.peak;
  }
}
