import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IpAddress, ipv4Address, ipv4FromNumber } from './address.js';
import { UDP_HEADER_LENGTH, UdpPacket, type UdpRepr, emitUdp, parseUdp } from './udp.js';
import { bytesFromTcpdump as hex, poisoned, unwrap } from '../test/wire-testing.js';

/*
 * Captures: two Linux network namespaces joined by a veth pair, 10.9.0.1/24 and 10.9.0.2/24, with
 * transmit checksum offload turned off (`ethtool -K <veth> tx off`: with it on, a capture on the sending
 * side holds only the pseudo-header sum); `tcpdump -i <veth> -w` on the 10.9.0.1 side while a python3
 * socket there sent "hi\n" to a listener on 10.9.0.2:5353 and "hello closed port\n" to 10.9.0.2:9,
 * printed with `tcpdump -r -xx`. Whole Ethernet frames.
 */

/** IP 10.9.0.1.43182 > 10.9.0.2.5353: UDP, length 3 ("hi\n") */
const HI_FRAME = hex(`
  0x0000:  ae4e 3de4 01cd b2cf a08e 521e 0800 4500
  0x0010:  001f 9c9e 4000 4011 8a1b 0a09 0001 0a09
  0x0020:  0002 a8ae 14e9 000b bbc2 6869 0a
`);

/** IP 10.9.0.1.45885 > 10.9.0.2.9: UDP, length 18 ("hello closed port\n") */
const CLOSED_PORT_FRAME = hex(`
  0x0000:  ae4e 3de4 01cd b2cf a08e 521e 0800 4500
  0x0010:  002e 9cfb 4000 4011 89af 0a09 0001 0a09
  0x0020:  0002 b33d 0009 001a b83b 6865 6c6c 6f20
  0x0030:  636c 6f73 6564 2070 6f72 740a
`);

const HI = HI_FRAME.subarray(14 + 20);
const CLOSED_PORT = CLOSED_PORT_FRAME.subarray(14 + 20);
const CAPTURED = [HI, CLOSED_PORT];

const A = ipv4Address('10.9.0.1');
const B = ipv4Address('10.9.0.2');

const text = (bytes: Uint8Array) => String.fromCharCode(...bytes);
function packetOf(bytes: Uint8Array): UdpPacket {
  return unwrap(UdpPacket.checked(bytes));
}

describe('UDP', () => {
  it('deconstructs captured datagrams', () => {
    const hi = packetOf(HI);
    expect([hi.sourcePort, hi.destinationPort, hi.length, hi.checksum]).toEqual([43182, 5353, 11, 0xbbc2]);
    expect(text(hi.payload)).toBe('hi\n');
    expect(hi.verifyChecksum(A, B)).toBe(true);
    expect(hi.bytes).toBe(HI);
    const closed = packetOf(CLOSED_PORT);
    expect([closed.sourcePort, closed.destinationPort, closed.length, closed.checksum]).toEqual([45885, 9, 26, 0xb83b]);
    expect(text(closed.payload)).toBe('hello closed port\n');
    expect(closed.verifyChecksum(A, B)).toBe(true);
  });

  it('checks the pseudo-header: other addresses do not verify', () => {
    const hi = packetOf(HI);
    expect(hi.verifyChecksum(B, A)).toBe(true); // the sum is commutative in the two addresses
    expect(hi.verifyChecksum(A, ipv4Address('10.9.0.3'))).toBe(false);
    expect(parseUdp(hi, ipv4Address('10.9.0.3'), B)).toMatchObject({ ok: false, error: { kind: 'checksum' } });
  });

  it('parses to a repr with the payload', () => {
    const result = parseUdp(packetOf(HI), A, B);
    expect(result).toEqual({ ok: true, value: { sourcePort: 43182, destinationPort: 5353, payload: HI.subarray(8) } });
    if (result.ok) expect(result.value.payload.buffer).toBe(HI.buffer); // a view, not a copy
  });

  it.each([
    ['"hi"', { sourcePort: 43182, destinationPort: 5353 }, HI],
    ['closed-port', { sourcePort: 45885, destinationPort: 9 }, CLOSED_PORT],
  ])('constructs the captured %s datagram byte for byte into a poisoned buffer', (_name, repr, captured) => {
    const buffer = poisoned(captured.length + 4);
    buffer.set(captured.subarray(UDP_HEADER_LENGTH), UDP_HEADER_LENGTH);
    expect(emitUdp(repr, buffer, captured.length - UDP_HEADER_LENGTH, A, B)).toBe(captured.length);
    expect(Array.from(buffer.subarray(0, captured.length))).toEqual(Array.from(captured));
    expect(Array.from(buffer.subarray(captured.length))).toEqual([0xa5, 0xa5, 0xa5, 0xa5]); // nothing written past the datagram
  });

  it('sends a computed checksum of 0 as 0xffff, which verifies', () => {
    const repr: UdpRepr = { sourcePort: 1000, destinationPort: 2000 };
    const probe = new Uint8Array(UDP_HEADER_LENGTH + 2);
    emitUdp(repr, probe, 2, A, B);
    // A payload word equal to the checksum of a zero payload makes the sum 0xffff: the checksum comes out 0.
    const buffer = Uint8Array.from(probe);
    buffer[8] = probe[6]!;
    buffer[9] = probe[7]!;
    emitUdp(repr, buffer, 2, A, B);
    expect([buffer[6], buffer[7]]).toEqual([0xff, 0xff]);
    expect(packetOf(buffer).verifyChecksum(A, B)).toBe(true);
  });

  it('accepts a checksum of 0 as none', () => {
    const bytes = Uint8Array.from(HI);
    bytes[6] = 0;
    bytes[7] = 0;
    bytes[9] = 0x21; // "h!\n": no checksum to catch it
    expect(packetOf(bytes).verifyChecksum(A, B)).toBe(true);
    expect(parseUdp(packetOf(bytes), A, B)).toMatchObject({ ok: true, value: { sourcePort: 43182, destinationPort: 5353 } });
  });

  it('refuses a flipped byte with kind checksum, unless verification is off', () => {
    for (const captured of CAPTURED) {
      for (let at = 0; at < captured.length; at++) {
        if (at === 4 || at === 5) continue; // the length field fails `checked` first
        const bytes = Uint8Array.from(captured);
        bytes[at] = bytes[at]! ^ 0x02;
        expect(packetOf(bytes).verifyChecksum(A, B)).toBe(false);
        expect(parseUdp(packetOf(bytes), A, B)).toMatchObject({ ok: false, error: { kind: 'checksum' } });
        expect(parseUdp(packetOf(bytes), A, B, { verifyChecksum: false }).ok).toBe(true);
      }
    }
  });

  it('ignores bytes after the length field (IP and Ethernet padding)', () => {
    const padded = new Uint8Array(HI.length + 15);
    padded.set(HI);
    padded.fill(0x5a, HI.length);
    const packet = packetOf(padded);
    expect(packet.length).toBe(11);
    expect(text(packet.payload)).toBe('hi\n');
    expect(packet.verifyChecksum(A, B)).toBe(true);
  });

  it('refuses every length under 8 as truncated', () => {
    for (let length = 0; length < UDP_HEADER_LENGTH; length++) {
      expect(UdpPacket.checked(HI.subarray(0, length))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    }
  });

  it('refuses a length field under 8 as malformed and one past the bytes as truncated', () => {
    const withLength = (length: number) => {
      const b = Uint8Array.from(HI);
      b[4] = length >> 8;
      b[5] = length & 0xff;
      return b;
    };
    for (let length = 0; length < UDP_HEADER_LENGTH; length++) {
      expect(UdpPacket.checked(withLength(length))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    }
    expect(UdpPacket.checked(withLength(8)).ok).toBe(true);
    expect(UdpPacket.checked(withLength(12))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    expect(UdpPacket.checked(withLength(0xffff))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    expect(UdpPacket.checked(HI.subarray(0, 10))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
  });

  describe('properties', () => {
    const address = fc.nat({ max: 0xffffffff }).map(ipv4FromNumber);
    const exercise = (bytes: Uint8Array, source: IpAddress, destination: IpAddress) => {
      const result = UdpPacket.checked(bytes);
      if (!result.ok) return;
      const p = result.value;
      void [p.sourcePort, p.destinationPort, p.length, p.checksum, p.verifyChecksum(source, destination)];
      expect(p.payload.length).toBe(p.length - UDP_HEADER_LENGTH);
      parseUdp(p, source, destination);
      expect(parseUdp(p, source, destination, { verifyChecksum: false }).ok).toBe(true);
    };

    it('never throws on random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 60 }), address, address, (bytes, s, d) => {
          exercise(bytes, s, d);
        }),
      );
    });

    it('never throws on mutated captured datagrams', () => {
      const mutated = fc
        .tuple(fc.constantFrom(...CAPTURED), fc.array(fc.tuple(fc.nat(11), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(30))
        .map(([base, changes, cut]) => {
          const bytes = Uint8Array.from(base.subarray(0, Math.max(0, base.length - cut)));
          for (const [at, value] of changes) if (at < bytes.length) bytes[at] = value;
          return bytes;
        });
      fc.assert(
        fc.property(mutated, (bytes) => {
          exercise(bytes, A, B);
        }),
      );
    });

    it('emit then parse gives the repr and payload back', () => {
      const port = fc.integer({ min: 0, max: 0xffff });
      fc.assert(
        fc.property(
          port,
          port,
          fc.uint8Array({ maxLength: 200 }),
          address,
          address,
          (sourcePort, destinationPort, payload, source, destination) => {
            const length = UDP_HEADER_LENGTH + payload.length;
            const buffer = poisoned(length + 1);
            buffer.set(payload, UDP_HEADER_LENGTH);
            expect(emitUdp({ sourcePort, destinationPort }, buffer, payload.length, source, destination)).toBe(length);
            expect(buffer[length]).toBe(0xa5);
            const packet = packetOf(buffer);
            expect(packet.checksum).not.toBe(0);
            expect(parseUdp(packet, source, destination)).toEqual({ ok: true, value: { sourcePort, destinationPort, payload } });
          },
        ),
      );
    });
  });
});
