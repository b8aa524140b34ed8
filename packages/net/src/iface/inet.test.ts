import { describe, expect, it } from 'vitest';
import { VirtualClock, seededRandom } from '../clock.js';
import { Inet } from './inet.js';
import { echo } from '../app/echo.js';
import { ipv4Address } from '../wire/address.js';
import { Statman } from '@uos/statman';
import { type FaultOptions, FaultInjector, linkPair } from '../test/index.js';

let network = 0;

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** Two stacks on one simulated link, 1 ms apart, in virtual time. */
function twoStacks(faults: FaultOptions & { seed?: number } = {}) {
  const clock = new VirtualClock();
  const n = network++;
  const [a, b] = linkPair({ clock, latencyMs: 1, names: [`sim${n}a`, `sim${n}b`] });
  const injector = new FaultInjector(clock, { seed: faults.seed ?? 1, ...faults });
  const alice = new Inet(injector.wrap(a), {
    clock,
    random: seededRandom(11 + n),
    configuration: { address: '10.0.0.1', prefixLength: 24 },
  });
  const bob = new Inet(injector.wrap(b), { clock, random: seededRandom(29 + n), configuration: { address: '10.0.0.2', prefixLength: 24 } });
  return { clock, alice, bob, injector };
}

/** Advances virtual time until `done()` or `limitMs` passed, letting promise continuations run between steps. */
async function run(clock: VirtualClock, done: () => boolean, limitMs = 600_000): Promise<void> {
  const start = clock.now();
  while (!done() && clock.now() - start < limitMs) {
    clock.advance(1);
    await Promise.resolve();
  }
}

describe('Inet over a simulated link', () => {
  it('resolves with ARP and answers pings', async () => {
    const { clock, alice } = twoStacks();
    const reply = alice.ping('10.0.0.2', { size: 100 });
    clock.advance(50);
    expect(await reply).toMatchObject({ ok: true, bytes: 100, ttl: 64 });
    expect(alice.arp.lookup(ipv4Address('10.0.0.2'))).toBe(0x020000000002);
  });

  it('carries UDP datagrams, fragmented and reassembled when larger than the MTU', async () => {
    const { clock, alice, bob } = twoStacks();
    const server = bob.udp.bind(5000);
    const client = alice.udp.bind();
    if (!server.ok || !client.ok) throw new Error('bind failed');
    const got: Uint8Array[] = [];
    server.socket.onMessage((m) => got.push(m.data.slice()));
    const big = Uint8Array.from({ length: 4000 }, (_, i) => i * 7);
    expect(client.socket.send(ipv4Address('10.0.0.2'), 5000, big)).toEqual({ ok: true });
    await run(clock, () => got.length === 1);
    expect(got[0]).toEqual(big);
    expect(bob.ip.stats.reassembled.value).toBeGreaterThan(0);
  });

  it('moves data over TCP both ways and closes', async () => {
    const { clock, alice, bob } = twoStacks();
    let serverEnded = false;
    bob.tcp.listen(7, (connection) => {
      connection.onEnd(() => {
        serverEnded = true;
      });
      echo(connection);
    });
    const start = alice.tcp.connect(ipv4Address('10.0.0.2'), 7);
    if (!start.ok) throw new Error(start.error);
    const c = start.connection;
    const echoed: Uint8Array[] = [];
    let closed = '';
    c.onData((d) => echoed.push(d));
    c.onClose((r) => {
      closed = r;
    });
    const message = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
    void c.writeAll(message).then(() => c.end());
    await run(clock, () => closed !== '');
    const total = new Uint8Array(echoed.reduce((n, e) => n + e.length, 0));
    let at = 0;
    for (const e of echoed) {
      total.set(e, at);
      at += e.length;
    }
    expect(total).toEqual(message);
    expect(serverEnded).toBe(true);
    expect(closed).toBe('normal');
  });

  it('runs more than one interface in one service, each with its own addresses, routes and statistics', async () => {
    const clock = new VirtualClock();
    const statman = new Statman();
    const [eth0, peer0] = linkPair({
      clock,
      latencyMs: 1,
      names: ['eth0', 'peer0'],
      macA: new Uint8Array([2, 0, 0, 0, 0, 0x10]),
      macB: new Uint8Array([2, 0, 0, 0, 0, 0x11]),
    });
    const [eth1, peer1] = linkPair({
      clock,
      latencyMs: 1,
      names: ['eth1', 'peer1'],
      macA: new Uint8Array([2, 0, 0, 0, 0, 0x20]),
      macB: new Uint8Array([2, 0, 0, 0, 0, 0x21]),
    });
    const random = seededRandom(5);
    const first = new Inet(eth0, { clock, random, statman, configuration: { address: '10.0.0.1', prefixLength: 24 } });
    const second = new Inet(eth1, { clock, random, statman, configuration: { address: '192.168.7.1', prefixLength: 24 } });
    const left = new Inet(peer0, { clock, random, statman, configuration: { address: '10.0.0.2', prefixLength: 24 } });
    const right = new Inet(peer1, { clock, random, statman, configuration: { address: '192.168.7.2', prefixLength: 24 } });
    // The same port on both interfaces: each listener belongs to its own Inet.
    first.tcp.listen(7, echo);
    second.tcp.listen(7, (connection) =>
      connection.onData(() => {
        connection.write(ascii('second'));
        connection.end();
      }),
    );
    const answers: string[] = [];
    for (const [client, server] of [
      [left, '10.0.0.1'],
      [right, '192.168.7.1'],
    ] as const) {
      const start = client.tcp.connect(server, 7);
      if (!start.ok) throw new Error(start.error);
      start.connection.onData((d) => answers.push(`${server} ${String.fromCharCode(...d)}`));
      start.connection.write(ascii('first'));
    }
    await run(clock, () => answers.length === 2, 5_000);
    expect(answers.sort()).toEqual(['10.0.0.1 first', '192.168.7.1 second']);
    // No route from one interface's stack into the other's subnet.
    expect(first.tcp.connect('192.168.7.2', 7)).toEqual({ ok: false, error: 'no-route' });
    expect(statman.get('eth0.tcp.connections_opened')!.value).toBe(1);
    expect(statman.get('eth1.tcp.connections_opened')!.value).toBe(1);
    expect(statman.get('eth0.ip.rx_packets')!.value).toBeGreaterThan(0);
    expect(statman.get('eth1.ip.rx_packets')!.value).toBeGreaterThan(0);
    first.close();
    expect(statman.has('eth0.tcp.connections_opened')).toBe(false);
    expect(statman.has('eth1.tcp.connections_opened')).toBe(true);
  });

  it('tells a UDP socket when its datagram met a closed port (ICMP port unreachable), and only that socket', async () => {
    const { clock, alice, bob } = twoStacks();
    const sender = alice.udp.bind();
    const bystander = alice.udp.bind();
    if (!sender.ok || !bystander.ok) throw new Error('bind failed');
    const errors: unknown[] = [];
    const bystanderErrors: unknown[] = [];
    sender.socket.onError((error) => errors.push(error));
    bystander.socket.onError((error) => bystanderErrors.push(error));
    expect(sender.socket.send(ipv4Address('10.0.0.2'), 9999, ascii('anyone?'))).toEqual({ ok: true });
    await run(clock, () => errors.length > 0, 100);
    expect(errors).toEqual([{ kind: 'unreachable', code: 3, destination: ipv4Address('10.0.0.2'), port: 9999 }]);
    expect(bystanderErrors).toEqual([]);
    expect(bob.udp.stats.no_port.value).toBe(1);
  });
});
