/**
 * @uos/statman: the central registry of statistics.
 *
 * This layer will hold typed statistics (u32, u64, f64; counters or gauges) named
 * `<ifname>.<layer>.<counter>` or `kernel.<area>.<counter>`, each handed to its producer as a handle
 * backed by a typed array so the hot path is one increment, with iteration and JSON snapshots.
 *
 * Invariants (to hold when the layer lands): a name maps to one type for the registry's lifetime (reuse
 * with another type is an error); a full registry is a clear error, never a silent drop.
 *
 * Status: not built yet (the kernel-core issue). It exports nothing until then.
 */
export {};
