import { Statman } from '@uos/statman';
import { isIpv4, macFromBytes } from '../wire/address.js';
import { VirtualClock, seededRandom } from '../clock.js';
import { Inet, type InetOptions } from '../iface/inet.js';
import { TcpFlag, type TcpRepr } from '../wire/tcp.js';
import type { CloseReason, TcpSocket } from '../socket/tcp/tcp-socket.js';
import { FaultInjector, type FaultOptions } from './fault-injector.js';
import { tcpFrame } from './frames.js';
import { type LoopbackDevice, linkPair } from './loopback-device.js';

export interface TestNetworkOptions {
  /** Faults on every frame either stack sends (change them later with `injector.configure`). */
  faults?: FaultOptions;
  /** Seeds the faults and both stacks' randomness (default 1). */
  seed?: number;
  /** One-way latency of the wire (default 1 ms). */
  latencyMs?: number;
  /** Interface names, also the statistics prefix (default 'a0' and 'b0'). */
  names?: readonly [string, string];
  /** More options for both stacks (clock, random, statman and configuration are set here). */
  inet?: Omit<InetOptions, 'clock' | 'random' | 'statman' | 'configuration'>;
}

export interface TestNetwork {
  clock: VirtualClock;
  /** 10.0.0.1/24 */
  a: Inet;
  /** 10.0.0.2/24 */
  b: Inet;
  injector: FaultInjector;
  /** The bare devices under the injector: a frame transmitted on `wire[1]` reaches `a` unfaulted, and the other way. */
  wire: [LoopbackDevice, LoopbackDevice];
  /** Both stacks' statistics, apart from the global registry. */
  statman: Statman;
}

/** Two stacks, 10.0.0.1 and 10.0.0.2, on one simulated wire through a FaultInjector, in virtual time. */
export function createTestNetwork(options: TestNetworkOptions = {}): TestNetwork {
  const clock = new VirtualClock();
  const seed = options.seed ?? 1;
  const wire = linkPair({ clock, latencyMs: options.latencyMs ?? 1, names: options.names ?? ['a0', 'b0'] });
  const injector = new FaultInjector(clock, { seed, ...options.faults });
  const statman = new Statman();
  const a = new Inet(injector.wrap(wire[0]), {
    ...options.inet,
    clock,
    statman,
    random: seededRandom(seed * 2 + 1),
    configuration: { address: '10.0.0.1', prefixLength: 24 },
  });
  const b = new Inet(injector.wrap(wire[1]), {
    ...options.inet,
    clock,
    statman,
    random: seededRandom(seed * 2 + 2),
    configuration: { address: '10.0.0.2', prefixLength: 24 },
  });
  return { clock, a, b, injector, wire, statman };
}

/** Advances virtual time in `stepMs` steps until `done()`; throws after `limitMs` of virtual time. */
export function runUntil(clock: VirtualClock, done: () => boolean, limitMs = 600_000, stepMs = 5): void {
  const start = clock.now();
  while (!done()) {
    if (clock.now() - start > limitMs) throw new Error(`not done after ${limitMs} ms of virtual time`);
    clock.advance(stepMs);
  }
}

/** Seeded bytes that differ everywhere, so a lost, doubled or misplaced chunk shows in a comparison. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    const word = random.uint32();
    bytes[i] = word;
    bytes[i + 1] = word >>> 8;
    bytes[i + 2] = word >>> 16;
    bytes[i + 3] = word >>> 24;
  }
  return bytes;
}

/** The first index where the two differ, or -1 when they are equal (length included). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Writes `data` with backpressure, driven by the connection's drain events alone (no promises), then ends. */
export function sendAll(connection: TcpSocket, data: Uint8Array, options: { end?: boolean } = {}): { readonly sent: number } {
  const progress = { sent: 0 };
  const go = (): void => {
    while (progress.sent < data.length) {
      const chunk = data.subarray(progress.sent, progress.sent + 65536);
      const result = connection.write(chunk);
      if (!result.ok) return;
      progress.sent += result.accepted;
      if (result.accepted < chunk.length) {
        connection.onDrain(go);
        return;
      }
    }
    if (options.end !== false) connection.end();
  };
  go();
  return progress;
}

export interface Collected {
  /** Bytes received so far. */
  readonly bytes: number;
  /** The peer ended. */
  readonly ended: boolean;
  readonly closed: CloseReason | undefined;
  /** Everything received, joined. */
  data(): Uint8Array;
}

/** Takes over a connection's data receiver and records what arrives and how it ends. */
export function collect(connection: TcpSocket): Collected {
  const chunks: Uint8Array[] = [];
  const state = { bytes: 0, ended: false, closed: undefined as CloseReason | undefined };
  connection.onData((d) => {
    chunks.push(d);
    state.bytes += d.length;
  });
  connection.onEnd(() => {
    state.ended = true;
  });
  connection.onClose((reason) => {
    state.closed = reason;
  });
  return {
    get bytes() {
      return state.bytes;
    },
    get ended() {
      return state.ended;
    },
    get closed() {
      return state.closed;
    },
    data: () => {
      const out = new Uint8Array(state.bytes);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
  };
}

/**
 * Puts a hand-made segment on `sender` as if the peer of `connection` had sent it (its ports and
 * addresses; ACK flag and a 1024 window unless `fields` say otherwise), addressed to `receiver`'s MAC.
 */
export function forgeSegment(
  sender: LoopbackDevice,
  receiver: { mac: Uint8Array },
  connection: TcpSocket,
  fields: Partial<TcpRepr>,
  payload?: Uint8Array,
): void {
  const { localAddress, remoteAddress } = connection;
  if (!isIpv4(localAddress) || !isIpv4(remoteAddress)) throw new Error('forgeSegment builds IPv4 frames only');
  const repr: TcpRepr = {
    sourcePort: connection.remotePort,
    destinationPort: connection.localPort,
    sequence: 0,
    acknowledgment: 0,
    flags: TcpFlag.ack,
    window: 1024,
    ...fields,
  };
  sender.transmit(
    tcpFrame(
      {
        sourceMac: macFromBytes(sender.mac),
        destinationMac: macFromBytes(receiver.mac),
        source: remoteAddress,
        destination: localAddress,
      },
      repr,
      payload,
    ),
  );
}
