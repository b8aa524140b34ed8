/**
 * The Ethernet layer against frames it must not take: 802.1Q tags for VLANs it is not on, payloads
 * longer than the MTU, group source addresses; an interface on a VLAN, tagged both ways; and the frames
 * it lends (`allocate`), reused once sent, so a frame that waits (device busy, ARP) must be a copy.
 */
import { describe, expect, it } from 'vitest';
import { Statman } from '@uos/statman';
import { VirtualClock, seededRandom } from '../clock.js';
import { ipv4Address, macFromBytes } from '../wire/address.js';
import { EthernetPacket, VLAN_TAG_LENGTH } from '../wire/ethernet.js';
import { Inet } from './inet.js';
import type { LinkDevice, LinkTransmitResult } from './link-device.js';
import { LinkLayer } from './link-layer.js';
import { LoopbackDevice, createTestNetwork, linkPair, udpFrame } from '../test/index.js';
import { NetError } from '../errors.js';

const ALICE = ipv4Address('10.0.0.1');
const BOB = ipv4Address('10.0.0.2');

/** `frame` with an 802.1Q tag for `vlan` inserted after the addresses. */
function tagged(frame: Uint8Array, vlan: number): Uint8Array {
  const out = new Uint8Array(frame.length + VLAN_TAG_LENGTH);
  out.set(frame.subarray(0, 12));
  out.set([0x81, 0x00, (vlan >> 8) & 0x0f, vlan & 0xff], 12);
  out.set(frame.subarray(12), 16);
  return out;
}

let n = 0;

/** Bob listens for UDP on 7 and echoes; `send` puts a frame from alice's side on the wire. */
function udpEcho() {
  const net = createTestNetwork({ names: [`link${n}a`, `link${n++}b`] });
  const bound = net.b.udp.bind(7);
  if (!bound.ok) throw new Error(bound.error);
  const received: number[] = [];
  bound.socket.onMessage((m) => {
    received.push(m.data.length);
    bound.socket.send(m.source, m.sourcePort, m.data);
  });
  const addresses = { sourceMac: macFromBytes(net.wire[0].mac), destinationMac: net.b.link.mac, source: ALICE, destination: BOB };
  const frame = (length = 4): Uint8Array => udpFrame(addresses, { source: 4000, destination: 7 }, new Uint8Array(length));
  const send = (f: Uint8Array): void => {
    net.wire[0].transmit(f);
    net.clock.advance(5);
  };
  return { net, received, frame, send, addresses };
}

describe('LinkLayer', () => {
  it('drops frames tagged for a VLAN it is not on, and takes priority-tagged ones (VLAN 0)', () => {
    const { net, received, frame, send } = udpEcho();
    send(tagged(frame(), 5));
    send(tagged(frame(), 4094));
    expect(received).toEqual([]);
    expect(net.b.link.stats.rx_wrong_vlan.value).toBe(2);
    expect(net.b.udp.stats.datagrams_rx.value).toBe(0);
    send(tagged(frame(), 0));
    send(frame());
    expect(received).toEqual([4, 4]);
  });

  it('drops and counts a frame whose payload is longer than the MTU', () => {
    const clock = new VirtualClock();
    // A sender whose device takes jumbo frames, towards a receiver with the usual 1500.
    const jumbo = new LoopbackDevice({ clock, name: 'jumbo0', mtu: 9000, mac: Uint8Array.of(2, 0, 0, 0, 0, 1) });
    const plain = new LoopbackDevice({ clock, name: 'plain0', peer: jumbo, mac: Uint8Array.of(2, 0, 0, 0, 0, 2) });
    const statman = new Statman();
    const bob = new Inet(plain, { clock, statman, random: seededRandom(1), configuration: { address: '10.0.0.2', prefixLength: 24 } });
    const bound = bob.udp.bind(7);
    if (!bound.ok) throw new Error(bound.error);
    const received: number[] = [];
    bound.socket.onMessage((m) => received.push(m.data.length));
    const addresses = { sourceMac: macFromBytes(jumbo.mac), destinationMac: bob.link.mac, source: ALICE, destination: BOB };
    jumbo.transmit(udpFrame(addresses, { source: 4000, destination: 7 }, new Uint8Array(1500 - 28 + 1)));
    jumbo.transmit(udpFrame(addresses, { source: 4000, destination: 7 }, new Uint8Array(1500 - 28)));
    clock.runUntilIdle();
    expect(received).toEqual([1472]);
    expect(bob.link.stats.rx_too_long.value).toBe(1);
  });

  it('drops frames from a group (broadcast or multicast) source address', () => {
    const { net, received, send, addresses } = udpEcho();
    for (const source of [0xffffffffffff, 0x01005e000001]) {
      send(udpFrame({ ...addresses, sourceMac: source }, { source: 4000, destination: 7 }, new Uint8Array(4)));
    }
    expect(received).toEqual([]);
    expect(net.b.link.stats.rx_bad_source.value).toBe(2);
  });

  it('runs an interface on a VLAN: its frames go out tagged, and it takes only frames of its VLAN', async () => {
    const clock = new VirtualClock();
    const statman = new Statman();
    const [a, b] = linkPair({ clock, latencyMs: 1, names: ['trunk0', 'trunk1'] });
    const options = (address: string, vlan?: number) => ({
      clock,
      statman,
      random: seededRandom(address.length + (vlan ?? 0)),
      configuration: { address, prefixLength: 24 },
      ...(vlan === undefined ? {} : { vlan }),
    });
    // Two interfaces on each device: untagged 10.0.0.0/24 and VLAN 10 with 10.0.10.0/24.
    const plainA = new Inet(a, options('10.0.0.1'));
    const vlanA = new Inet(a, options('10.0.10.1', 10));
    const plainB = new Inet(b, options('10.0.0.2'));
    const vlanB = new Inet(b, options('10.0.10.2', 10));
    expect(vlanA.name).toBe('trunk0.10');
    const tags: (number | undefined)[] = [];
    b.onReceive((frame) => {
      const packet = EthernetPacket.checked(frame);
      if (packet.ok) tags.push(packet.value.vlanId);
    });
    const overVlan = vlanA.ping('10.0.10.2');
    const plain = plainA.ping('10.0.0.2');
    clock.advance(100);
    expect(await overVlan).toMatchObject({ ok: true });
    expect(await plain).toMatchObject({ ok: true });
    expect(tags.filter((t) => t === 10).length).toBeGreaterThanOrEqual(2); // ARP and the echo request
    expect(tags.filter((t) => t === undefined).length).toBeGreaterThanOrEqual(2);
    // Each saw only its own: the untagged interface dropped the tagged frames, and the other way round.
    expect(vlanB.icmp.stats.echo_requests_rx.value).toBe(1);
    expect(plainB.icmp.stats.echo_requests_rx.value).toBe(1);
    expect(plainB.link.stats.rx_wrong_vlan.value).toBeGreaterThan(0);
    expect(vlanB.link.stats.rx_wrong_vlan.value).toBeGreaterThan(0);
    // Full-size frames carry their tag too (1518 bytes on the wire), fragments included.
    const sink = vlanB.udp.bind(9);
    const from = vlanA.udp.bind();
    if (!sink.ok || !from.ok) throw new Error('bind failed');
    const got: number[] = [];
    sink.socket.onMessage((m) => got.push(m.data.length));
    from.socket.send(ipv4Address('10.0.10.2'), 9, new Uint8Array(1472));
    from.socket.send(ipv4Address('10.0.10.2'), 9, new Uint8Array(3000));
    clock.advance(100);
    expect(got).toEqual([1472, 3000]);
    expect(() => new Inet(a, { ...options('10.0.20.1'), vlan: 4095 })).toThrow(NetError);
  });

  it('lends the frames it allocates: zeroed each time, and a frame queued while the device is busy is a copy', () => {
    const sent: number[][] = [];
    let busy = true;
    let writable = (): void => {};
    const device: LinkDevice = {
      name: 'busy0',
      mac: Uint8Array.of(2, 0, 0, 0, 0, 9),
      mtu: 1500,
      transmit(frame: Uint8Array): LinkTransmitResult {
        if (busy) return { ok: false, error: 'busy' };
        sent.push(Array.from(frame.subarray(14)));
        return { ok: true };
      },
      onReceive: () => () => {},
      onWritable(listener) {
        writable = listener;
        return () => {};
      },
    };
    const link = new LinkLayer(device);
    for (const fill of [1, 2, 3]) {
      const frame = link.allocate(4);
      expect(Array.from(frame)).toEqual(new Array(18).fill(0));
      frame.fill(fill, 14);
      expect(link.send(frame, macFromBytes(Uint8Array.of(2, 0, 0, 0, 0, 1)), 0x0800)).toBe(true);
    }
    expect(link.stats.tx_queued.value).toBe(3);
    busy = false;
    writable();
    expect(sent).toEqual([
      [1, 1, 1, 1],
      [2, 2, 2, 2],
      [3, 3, 3, 3],
    ]);
    // Sent at once now: the next frame of that length is the same one, zeroed again.
    const first = link.allocate(4);
    first.fill(4, 14);
    link.send(first, macFromBytes(Uint8Array.of(2, 0, 0, 0, 0, 1)), 0x0800);
    const second = link.allocate(4);
    expect(second).toBe(first);
    expect(Array.from(second)).toEqual(new Array(18).fill(0));
    expect(sent[3]).toEqual([4, 4, 4, 4]);
  });

  it('keeps a copy of each frame that waits for ARP, whatever the frames sent meanwhile (an ARP request included)', () => {
    const net = createTestNetwork({ names: [`link${n}a`, `link${n++}b`] });
    const bound = net.b.udp.bind(9);
    const from = net.a.udp.bind(4000);
    if (!bound.ok || !from.ok) throw new Error('bind failed');
    const got: string[] = [];
    bound.socket.onMessage((m) => got.push(Array.from(m.data).join(',')));
    // Bob's MAC is not known yet: these wait for the ARP reply. The empty one is an ARP request's length.
    from.socket.send(BOB, 9, Uint8Array.of(1, 1, 1));
    from.socket.send(BOB, 9, Uint8Array.of(2, 2, 2));
    from.socket.send(BOB, 9, new Uint8Array(0));
    expect(net.a.arp.resolving(BOB)).toBe(true);
    net.clock.advance(10);
    expect(got).toEqual(['1,1,1', '2,2,2', '']);
  });

  it('counts frames and packets past 2^32 (the per-packet counters carry into their high word, as increment() does)', async () => {
    const net = createTestNetwork({ names: [`link${n}a`, `link${n++}b`] });
    const near = 2 ** 32 - 1;
    const counters = [net.a.link.stats.tx_frames, net.b.link.stats.rx_frames, net.a.ip.stats.tx_packets, net.b.ip.stats.rx_packets];
    for (const counter of counters) counter.value = near;
    const reply = net.a.ping('10.0.0.2');
    net.clock.advance(10);
    expect(await reply).toMatchObject({ ok: true });
    // Each went past 2^32 - 1 by the few frames of an ARP exchange and a ping (the echo request: one IP packet).
    for (const counter of counters) expect(counter.value).toBeGreaterThanOrEqual(2 ** 32);
    expect(counters.map((c) => c.value - near).slice(2)).toEqual([1, 1]);
  });
});
