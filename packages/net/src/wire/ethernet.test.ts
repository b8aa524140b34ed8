import { describe, expect, it } from 'vitest';
import { MAC_BROADCAST, formatMac, parseMac } from './address.js';
import { EthernetPacket, emitEthernet, ethernetHeaderLength, parseEthernet } from './ethernet.js';
import { poisoned } from '../test/wire-testing.js';

/**
 * An ARP request (who-has 10.9.0.2 tell 10.9.0.1) from b2:cf:a0:8e:52:1e, captured with tcpdump on a veth
 * pair between two Linux network namespaces (10.9.0.1/24, 10.9.0.2/24) when a ping triggered resolution.
 */
const ARP_REQUEST = Uint8Array.from([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xb2, 0xcf, 0xa0, 0x8e, 0x52, 0x1e, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0xb2,
  0xcf, 0xa0, 0x8e, 0x52, 0x1e, 0x0a, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x09, 0x00, 0x02,
]);

/** The same request carried in VLAN 42 with priority 5. */
const TAGGED = Uint8Array.from([...ARP_REQUEST.subarray(0, 12), 0x81, 0x00, 0xa0, 0x2a, 0x08, 0x06, ...ARP_REQUEST.subarray(14)]);

describe('Ethernet II', () => {
  it('deconstructs a captured frame', () => {
    const result = EthernetPacket.checked(ARP_REQUEST);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const packet = result.value;
    expect(packet.destination).toBe(MAC_BROADCAST);
    expect(formatMac(packet.source)).toBe('b2:cf:a0:8e:52:1e');
    expect(packet.etherType).toBe(0x0806);
    expect(packet.tagged).toBe(false);
    expect(packet.payload.length).toBe(28);
  });

  it('parses to a repr, with unknown EtherTypes as data', () => {
    const packet = (EthernetPacket.checked(ARP_REQUEST) as { ok: true; value: EthernetPacket }).value;
    expect(parseEthernet(packet)).toEqual({
      destination: MAC_BROADCAST,
      source: parseMac('b2:cf:a0:8e:52:1e'),
      etherType: { kind: 'arp' },
    });
    const odd = Uint8Array.from(ARP_REQUEST);
    odd[12] = 0x88;
    odd[13] = 0xb5;
    expect(parseEthernet((EthernetPacket.checked(odd) as { ok: true; value: EthernetPacket }).value).etherType).toEqual({
      kind: 'unknown',
      value: 0x88b5,
    });
  });

  it('parses an 802.1Q tag', () => {
    const packet = (EthernetPacket.checked(TAGGED) as { ok: true; value: EthernetPacket }).value;
    expect(packet.tagged).toBe(true);
    expect(packet.vlanId).toBe(42);
    expect(packet.vlanPriority).toBe(5);
    expect(packet.etherType).toBe(0x0806);
    expect(packet.headerLength).toBe(18);
    expect(parseEthernet(packet).vlan).toEqual({ id: 42, priority: 5 });
  });

  it('constructs the captured header byte for byte into a poisoned buffer', () => {
    const buffer = poisoned(ARP_REQUEST.length);
    const repr = { destination: MAC_BROADCAST, source: parseMac('b2:cf:a0:8e:52:1e')!, etherType: { kind: 'arp' } as const };
    expect(emitEthernet(repr, buffer)).toBe(14);
    expect(Array.from(buffer.subarray(0, 14))).toEqual(Array.from(ARP_REQUEST.subarray(0, 14)));
    expect(buffer[14]).toBe(0xa5); // nothing written past the header
  });

  it('round-trips a tagged header', () => {
    const repr = {
      destination: 0x020000000001,
      source: 0x020000000002,
      etherType: { kind: 'ipv4' } as const,
      vlan: { id: 4095, priority: 7 },
    };
    const buffer = poisoned(ethernetHeaderLength(repr));
    emitEthernet(repr, buffer);
    expect(parseEthernet((EthernetPacket.checked(buffer) as { ok: true; value: EthernetPacket }).value)).toEqual(repr);
  });

  it.each([0, 1, 13])('refuses %i bytes as truncated', (length) => {
    const result = EthernetPacket.checked(ARP_REQUEST.subarray(0, length));
    expect(result).toMatchObject({ ok: false, error: { kind: 'truncated' } });
  });

  it('refuses a tagged frame cut inside its tag', () => {
    expect(EthernetPacket.checked(TAGGED.subarray(0, 16))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
  });
});
