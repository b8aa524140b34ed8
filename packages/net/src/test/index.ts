/**
 * @uos/net/test: devices for running stacks against each other without hardware, under vitest in Node
 * or inside an image. Everything is driven by an injected `NetClock`, usually a `VirtualClock`, so a test
 * that spans minutes of protocol time runs in milliseconds and the same way every time.
 *
 * - `linkPair` joins two `LoopbackDevice`s with a wire (what one transmits, the other receives, in order,
 *   after `latencyMs`, always through the clock and never inside `transmit`); a lone `LoopbackDevice`
 *   receives its own frames.
 * - `FaultInjector` wraps a device so its transmitted frames pass through seeded faults: drop, duplicate,
 *   reorder, corrupt, delay with jitter, a rate limit with a bounded queue and a size limit, with counts of
 *   each in `stats`. Wrap both ends for faults both ways.
 * - `PcapWriter` records frames into an in-memory pcap file; `tap` records a device's traffic.
 * - `bytesFromTcpdump` turns a pasted `tcpdump -xx` capture into bytes, for tests with real packets;
 *   `poisoned` and `unwrap` for emit and parse tests.
 *
 * A netsim test:
 *
 * ```ts
 * const clock = new VirtualClock();
 * const [a, b] = linkPair({ clock, latencyMs: 1, names: ['client0', 'server0'] });
 * const faults = new FaultInjector(clock, { seed: 7, drop: 0.05, reorder: 0.02, rateBytesPerSecond: 1_250_000 });
 * const capture = new PcapWriter();
 * const client = new Inet(capture.tap(faults.wrap(a), clock), {
 *   clock, random: seededRandom(1), configuration: { address: '10.0.0.1', prefixLength: 24 },
 * });
 * const server = new Inet(faults.wrap(b), {
 *   clock, random: seededRandom(2), configuration: { address: '10.0.0.2', prefixLength: 24 },
 * });
 * // ... start a transfer, then let simulated time run:
 * clock.runUntilIdle();
 * // on failure: writeFileSync('failure.pcap', capture.bytes()); then `tcpdump -r failure.pcap`
 * ```
 *
 * Tap outside the injector to see what the stack sent and received; tap the bare device (inside the
 * injector) to see what crossed the wire after faults.
 */
export { LoopbackDevice, linkPair } from './loopback-device.js';
export type { LinkPairOptions, LoopbackDeviceOptions, LoopbackStats } from './loopback-device.js';
export { FaultInjector } from './fault-injector.js';
export { OffloadingDevice } from './offloading-device.js';
export type { OffloadingStats } from './offloading-device.js';
export type { FaultInjectorOptions, FaultOptions, FaultStats } from './fault-injector.js';
export {
  PcapWriter,
  PCAP_FILE_HEADER_LENGTH,
  PCAP_LINK_TYPE_ETHERNET,
  PCAP_MAGIC_MICROSECONDS,
  PCAP_RECORD_HEADER_LENGTH,
} from './pcap-writer.js';
export type { PcapWriterOptions } from './pcap-writer.js';
export { VirtualClock, seededRandom } from '../clock.js';
export type { NetClock, RandomSource, TimerHandle } from '../clock.js';
export { ipFragmentFrame, tcpFrame, udpFrame } from './frames.js';
export type { FragmentFields, FrameAddresses } from './frames.js';
export { collect, createTestNetwork, firstDifference, forgeSegment, patternBytes, runUntil, sendAll } from './netsim.js';
export type { Collected, TestNetwork, TestNetworkOptions } from './netsim.js';
export { bytesFromTcpdump, poisoned, unwrap } from './wire-testing.js';
