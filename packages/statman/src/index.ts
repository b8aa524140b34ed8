/**
 * @uos/statman: the central registry of statistics.
 *
 * Producers create a typed stat once (u32, u64 or f64; counter or gauge), keep the handle and bump it on
 * the hot path; dashboards iterate the registry or take a JSON snapshot. Names are
 * `<ifname>.<layer>.<counter>` (`eth0.arp.requests_rx`) or `kernel.<area>.<counter>`
 * (`kernel.timers.fired`). Each package keeps its stat names in one constants table:
 *
 * ```ts
 * import { statman } from '@uos/statman';
 *
 * // The package's one table of stat names (per-interface names get the interface name in front).
 * const arpStats = { requestsRx: 'arp.requests_rx', repliesTx: 'arp.replies_tx', cacheEntries: 'arp.cache_entries' } as const;
 *
 * const requestsRx = statman.create(`${ifname}.${arpStats.requestsRx}`);
 * const cacheEntries = statman.create(`${ifname}.${arpStats.cacheEntries}`, { kind: 'gauge' });
 * const bytesRx = statman.getOrCreate('eth0.nic.rx_bytes', { type: 'u64' });
 *
 * requestsRx.increment();                  // the hot path: no allocation
 * requestsRx.array[requestsRx.index]!++;   // the hottest path (u32 and f64 stats)
 * bytesRx.increment(frame.length);         // u64: two u32 words with carry, no BigInt
 * cacheEntries.decrement();
 * JSON.stringify(statman);                 // {"eth0.arp.requests_rx":2,"eth0.arp.cache_entries":0,…}
 * ```
 *
 * Invariants: storage is typed arrays sized at construction (capacity fixed, default 1024 stats), so a
 * full registry is a `StatmanError` (`statman-full`) naming the capacity and the stat, never a silent
 * drop or a reallocation; while a stat exists its name maps to one type and kind (`getOrCreate` with
 * another is `stat-type-mismatch`); u32 stats wrap modulo 2^32 and u64 stats modulo 2^64 like their C
 * counterparts, and u64 values read exactly up to 2^53; data-path methods (`increment`, `value`, `reset`)
 * never throw, and `decrement` throws only on a counter; iteration and snapshots follow creation order;
 * `statman` is one registry per process, shared by every copy of the package through
 * `globalThis[Symbol.for('uos.statman')]`. A freed stat's handle must not be used again.
 */
export { Statman, StatmanError, statman, u64Words } from './statman.js';
export type {
  StatEntry,
  StatHandle,
  StatKind,
  StatOptions,
  StatType,
  StatmanErrorCode,
  StatmanOptions,
} from './statman.js';
