/**
 * @uos/net/wire: the packet formats of the stack, for tools and tests (services use the root export).
 *
 * Each format is a `XxxPacket` view over a `Uint8Array`, checked before any access on untrusted bytes
 * (`XxxPacket.checked(bytes)` answers a `WireResult`; after that its getters never throw), and a plain
 * `XxxRepr` with `parseXxx` (from a checked packet) and `emitXxx` (into the caller's buffer, returning the
 * length written). Unknown protocol values are data (`{ kind: 'unknown', value }`), never errors.
 *
 * Invariants: nothing here allocates beyond the repr it returns, keeps state, or throws on what arrives
 * from the network (only on a caller's own impossible repr, as a NetError where said).
 */
export * from './result.js';
export * from './checksum.js';
export * from './address.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './icmpv4.js';
export * from './udp.js';
export * from './tcp.js';
export * from './dhcp.js';
export * from './dns.js';
