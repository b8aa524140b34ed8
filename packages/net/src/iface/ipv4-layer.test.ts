/**
 * IPv4 input against what an attacker sends: junk first fragments that would fill reassembly, fragments
 * that overlap to rewrite a header, and martian sources (our own address: a land attack).
 */
import { describe, expect, it } from 'vitest';
import { type IpAddress, ipv4Address, ipv4FromNumber, macFromBytes } from '../wire/address.js';
import { ipProtocolOf } from '../wire/ipv4.js';
import { TcpFlag } from '../wire/tcp.js';
import { emitUdp } from '../wire/udp.js';
import { createTestNetwork, ipFragmentFrame, tcpFrame, udpFrame } from '../test/index.js';

const ALICE = ipv4Address('10.0.0.1');
const BOB = ipv4Address('10.0.0.2');
let n = 0;

function network() {
  const net = createTestNetwork({ names: [`ip${n}a`, `ip${n++}b`] });
  const addresses = { sourceMac: macFromBytes(net.wire[0].mac), destinationMac: net.b.link.mac, source: ALICE, destination: BOB };
  /** Puts a frame on the wire towards bob, as if alice (or whoever `addresses` name) sent it. */
  const inject = (frame: Uint8Array): void => {
    net.wire[0].transmit(frame);
  };
  return { net, addresses, inject };
}

describe('IPv4 reassembly under attack', () => {
  it('still reassembles a 3,000-byte ping after 16 junk first fragments from the same host', async () => {
    const { net, addresses, inject } = network();
    for (let id = 1; id <= 16; id++) {
      inject(
        ipFragmentFrame(addresses, { protocol: ipProtocolOf(17), identification: id, offset: 0, moreFragments: true }, new Uint8Array(8)),
      );
    }
    net.clock.advance(5);
    const reply = net.a.ping('10.0.0.2', { size: 3000, timeoutMs: 1000 });
    net.clock.advance(1000);
    expect(await reply).toMatchObject({ ok: true, bytes: 3000 });
    expect(net.b.ip.stats.reassembled.value).toBe(1);
  });

  it('still reassembles while spoofed sources flood it with tiny first fragments', async () => {
    const { net, addresses, inject } = network();
    let source = 0x0b000000;
    const flood = (count: number): void => {
      for (let i = 0; i < count; i++, source++) {
        inject(
          ipFragmentFrame(
            { ...addresses, source: ipv4FromNumber(source) },
            { protocol: ipProtocolOf(17), identification: i & 0xffff, offset: 0, moreFragments: true },
            new Uint8Array(8),
          ),
        );
      }
    };
    flood(5000);
    net.clock.advance(5);
    const reply = net.a.ping('10.0.0.2', { size: 3000, timeoutMs: 1000 });
    flood(200); // more junk while the ping's fragments are on their way
    net.clock.advance(1000);
    expect(await reply).toMatchObject({ ok: true, bytes: 3000 });
    expect(net.b.ip.stats.reassembly_evicted.value).toBeGreaterThan(4000);
  });

  it('drops a datagram whose second fragment overlaps the first to rewrite its UDP port (RFC 5722)', () => {
    const { net, addresses, inject } = network();
    const got: number[] = [];
    for (const port of [53, 7]) {
      const bound = net.b.udp.bind(port);
      if (!bound.ok) throw new Error(bound.error);
      bound.socket.onMessage(() => got.push(port));
    }
    // 24 bytes of UDP: the header says port 53; a second fragment at offset 0 says port 7.
    const header = (port: number): Uint8Array => {
      const bytes = new Uint8Array(16);
      emitUdp({ sourcePort: 4000, destinationPort: port }, bytes, 16, ALICE, BOB);
      bytes[6] = 0; // no checksum (allowed in IPv4): the fragments differ
      bytes[7] = 0;
      return bytes;
    };
    const udp = ipProtocolOf(17);
    inject(ipFragmentFrame(addresses, { protocol: udp, identification: 99, offset: 0, moreFragments: true }, header(53).subarray(0, 8)));
    inject(ipFragmentFrame(addresses, { protocol: udp, identification: 99, offset: 0, moreFragments: true }, header(7)));
    inject(ipFragmentFrame(addresses, { protocol: udp, identification: 99, offset: 16, moreFragments: false }, new Uint8Array(8)));
    net.clock.advance(5);
    expect(got).toEqual([]);
    expect(net.b.ip.stats.reassembly_overlaps.value).toBe(1);
  });
});

describe('IPv4 martian sources', () => {
  it('leaves no half-open connection after a land attack (source = destination = us)', () => {
    const { net, addresses, inject } = network();
    net.b.tcp.listen(80, () => {});
    const land = { ...addresses, source: BOB };
    for (let i = 0; i < 10; i++) {
      inject(
        tcpFrame(land, { sourcePort: 80, destinationPort: 80, sequence: 1000 + i, acknowledgment: 0, flags: TcpFlag.syn, window: 8192 }),
      );
    }
    net.clock.advance(5);
    expect(net.b.tcp.connectionCount).toBe(0);
    expect(net.b.ip.stats.rx_martian.value).toBe(10);
  });

  it('drops datagrams from broadcast, multicast, loopback and 0.0.0.0 sources, and answers none', () => {
    const { net, addresses, inject } = network();
    const bound = net.b.udp.bind(7);
    if (!bound.ok) throw new Error(bound.error);
    const got: IpAddress[] = [];
    bound.socket.onMessage((m) => got.push(m.source));
    for (const source of ['255.255.255.255', '10.0.0.255', '224.0.0.1', '239.1.2.3', '127.0.0.1', '0.0.0.0']) {
      inject(udpFrame({ ...addresses, source: ipv4Address(source) }, { source: 4000, destination: 7 }, new Uint8Array(4)));
      inject(udpFrame({ ...addresses, source: ipv4Address(source) }, { source: 4000, destination: 9 }, new Uint8Array(4)));
    }
    net.clock.advance(5);
    expect(got).toEqual([]);
    expect(net.b.ip.stats.rx_martian.value).toBe(12);
    expect(net.b.icmp.stats.unreachable_tx.value).toBe(0);
    inject(udpFrame(addresses, { source: 4000, destination: 7 }, new Uint8Array(4)));
    net.clock.advance(5);
    expect(got).toEqual([ALICE]);
  });
});
