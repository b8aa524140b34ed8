/** UDP and port 0: nothing goes to it, and a datagram from it draws no answer. */
import { describe, expect, it } from 'vitest';
import { ipv4Address, macFromBytes } from '../../wire/address.js';
import { createTestNetwork, udpFrame } from '../../test/index.js';

const ALICE = ipv4Address('10.0.0.1');
const BOB = ipv4Address('10.0.0.2');

describe('UDP port 0', () => {
  it('delivers a datagram from port 0 but never answers it, and drops datagrams to port 0', () => {
    const net = createTestNetwork({ names: ['udp0a', 'udp0b'] });
    const addresses = { sourceMac: macFromBytes(net.wire[0].mac), destinationMac: net.b.link.mac, source: ALICE, destination: BOB };
    const echo = net.b.udp.bind(7);
    if (!echo.ok) throw new Error(echo.error);
    const answers: unknown[] = [];
    echo.socket.onMessage((m) => answers.push(echo.socket.send(m.source, m.sourcePort, m.data)));
    const sent = (): number => net.b.ip.stats.tx_packets.value;
    const before = sent();
    net.wire[0].transmit(udpFrame(addresses, { source: 0, destination: 7 }, new Uint8Array(4)));
    // From port 0 to a closed port: no ICMP error either.
    net.wire[0].transmit(udpFrame(addresses, { source: 0, destination: 9 }, new Uint8Array(4)));
    // To port 0: nobody is there.
    net.wire[0].transmit(udpFrame(addresses, { source: 4000, destination: 0 }, new Uint8Array(4)));
    net.clock.advance(5);
    expect(answers).toEqual([{ ok: false, error: 'invalid-port' }]);
    expect(sent()).toBe(before);
    expect(net.b.udp.stats.zero_port.value).toBe(2);
    expect(net.b.icmp.stats.unreachable_tx.value).toBe(0);
  });
});
