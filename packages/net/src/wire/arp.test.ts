import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAC_BROADCAST, ipv4Address, ipv4FromNumber, parseMac } from './address.js';
import { ARP_LENGTH, ArpPacket, type ArpRepr, emitArp, parseArp } from './arp.js';
import { bytesFromTcpdump as hex, poisoned, unwrap } from '../test/wire-testing.js';

/*
 * Captures: two Linux network namespaces joined by a veth pair, 10.9.0.1/24 (b2:cf:a0:8e:52:1e) and
 * 10.9.0.2/24 (ae:4e:3d:e4:01:cd); `tcpdump -i <veth> -w` on the 10.9.0.1 side while it pinged 10.9.0.2
 * with an empty neighbour cache, printed with `tcpdump -r -xx`. Whole Ethernet frames; veth does not pad
 * to 60 bytes.
 */

/** ARP, Request who-has 10.9.0.2 tell 10.9.0.1, length 28 */
const REQUEST_FRAME = hex(`
  0x0000:  ffff ffff ffff b2cf a08e 521e 0806 0001
  0x0010:  0800 0604 0001 b2cf a08e 521e 0a09 0001
  0x0020:  0000 0000 0000 0a09 0002
`);

/** ARP, Reply 10.9.0.2 is-at ae:4e:3d:e4:01:cd, length 28 */
const REPLY_FRAME = hex(`
  0x0000:  b2cf a08e 521e ae4e 3de4 01cd 0806 0001
  0x0010:  0800 0604 0002 ae4e 3de4 01cd 0a09 0002
  0x0020:  b2cf a08e 521e 0a09 0001
`);

const REQUEST = REQUEST_FRAME.subarray(14);
const REPLY = REPLY_FRAME.subarray(14);

const A_MAC = parseMac('b2:cf:a0:8e:52:1e')!;
const B_MAC = parseMac('ae:4e:3d:e4:01:cd')!;
const A_IP = ipv4Address('10.9.0.1');
const B_IP = ipv4Address('10.9.0.2');

const REQUEST_REPR: ArpRepr = {
  operation: { kind: 'request' },
  senderHardware: A_MAC,
  senderProtocol: A_IP,
  targetHardware: 0,
  targetProtocol: B_IP,
};
const REPLY_REPR: ArpRepr = {
  operation: { kind: 'reply' },
  senderHardware: B_MAC,
  senderProtocol: B_IP,
  targetHardware: A_MAC,
  targetProtocol: A_IP,
};

function packetOf(bytes: Uint8Array): ArpPacket {
  return unwrap(ArpPacket.checked(bytes));
}

describe('ARP', () => {
  it('deconstructs a captured request and reply', () => {
    const request = packetOf(REQUEST);
    expect(request.operation).toBe(1);
    expect(request.senderHardware).toBe(A_MAC);
    expect(request.senderProtocol).toBe(A_IP);
    expect(request.targetHardware).toBe(0);
    expect(request.targetProtocol).toBe(B_IP);
    expect(request.bytes).toBe(REQUEST);
    const reply = packetOf(REPLY);
    expect(reply.operation).toBe(2);
    expect(reply.senderHardware).toBe(B_MAC);
    expect(reply.senderProtocol).toBe(B_IP);
    expect(reply.targetHardware).toBe(A_MAC);
    expect(reply.targetProtocol).toBe(A_IP);
  });

  it('parses to a repr', () => {
    expect(parseArp(packetOf(REQUEST))).toEqual(REQUEST_REPR);
    expect(parseArp(packetOf(REPLY))).toEqual(REPLY_REPR);
  });

  it.each([
    ['request', REQUEST_REPR, REQUEST],
    ['reply', REPLY_REPR, REPLY],
  ] as const)('constructs the captured %s byte for byte into a poisoned buffer', (_name, repr, captured) => {
    const buffer = poisoned(ARP_LENGTH + 4);
    expect(emitArp(repr, buffer)).toBe(ARP_LENGTH);
    expect(Array.from(buffer.subarray(0, ARP_LENGTH))).toEqual(Array.from(captured));
    expect(Array.from(buffer.subarray(ARP_LENGTH))).toEqual([0xa5, 0xa5, 0xa5, 0xa5]); // nothing written past the packet
  });

  it('round-trips a gratuitous announcement to broadcast', () => {
    const repr: ArpRepr = {
      operation: { kind: 'request' },
      senderHardware: 0x020000000001,
      senderProtocol: ipv4Address('192.168.1.7'),
      targetHardware: MAC_BROADCAST,
      targetProtocol: ipv4Address('192.168.1.7'),
    };
    const buffer = poisoned(ARP_LENGTH);
    emitArp(repr, buffer);
    expect(parseArp(packetOf(buffer))).toEqual(repr);
  });

  it('keeps an unknown operation as data, and emits it back', () => {
    const odd = Uint8Array.from(REQUEST);
    odd[7] = 9; // InARP request (RFC 2390): not one the stack speaks
    const repr = parseArp(packetOf(odd));
    expect(repr.operation).toEqual({ kind: 'unknown', value: 9 });
    const buffer = poisoned(ARP_LENGTH);
    emitArp(repr, buffer);
    expect(Array.from(buffer)).toEqual(Array.from(odd));
  });

  it('ignores Ethernet padding after the 28 bytes', () => {
    // The capture is unpadded (veth); a real NIC pads the 42-byte frame to 60 bytes with zeros.
    const padded = new Uint8Array(46);
    padded.set(REQUEST);
    expect(parseArp(packetOf(padded))).toEqual(REQUEST_REPR);
  });

  it('refuses every length under 28 as truncated', () => {
    for (let length = 0; length < ARP_LENGTH; length++) {
      expect(ArpPacket.checked(REQUEST.subarray(0, length))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    }
  });

  it.each([
    ['hardware type 6 (IEEE 802)', 1, 6],
    ['protocol type 0x86dd', 2, 0x86],
    ['hardware length 8', 4, 8],
    ['protocol length 16', 5, 16],
  ] as const)('refuses %s as unsupported', (_name, offset, value) => {
    const odd = Uint8Array.from(REQUEST);
    odd[offset] = value;
    if (offset === 2) odd[3] = 0xdd;
    expect(ArpPacket.checked(odd)).toMatchObject({ ok: false, error: { kind: 'unsupported' } });
  });

  describe('properties', () => {
    const exercise = (bytes: Uint8Array) => {
      const result = ArpPacket.checked(bytes);
      if (!result.ok) return;
      const p = result.value;
      void [p.operation, p.senderHardware, p.senderProtocol, p.targetHardware, p.targetProtocol];
      parseArp(p);
    };

    it('never throws on random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          exercise(bytes);
        }),
      );
    });

    it('never throws on mutated captured packets', () => {
      const mutated = fc
        .tuple(
          fc.constantFrom(REQUEST, REPLY),
          fc.array(fc.tuple(fc.nat(ARP_LENGTH - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
          fc.nat(ARP_LENGTH + 8),
        )
        .map(([base, changes, length]) => {
          const bytes = new Uint8Array(length);
          bytes.set(base.subarray(0, Math.min(length, base.length)));
          for (const [at, value] of changes) if (at < length) bytes[at] = value;
          return bytes;
        });
      fc.assert(
        fc.property(mutated, (bytes) => {
          exercise(bytes);
        }),
      );
    });

    it('emit then parse gives the repr back', () => {
      const mac = fc.integer({ min: 0, max: 0xffffffffffff });
      const ip = fc.nat({ max: 0xffffffff }).map(ipv4FromNumber);
      const operation = fc.oneof(
        fc.constant({ kind: 'request' as const }),
        fc.constant({ kind: 'reply' as const }),
        fc.integer({ min: 3, max: 0xffff }).map((value) => ({ kind: 'unknown' as const, value })),
        fc.constant({ kind: 'unknown' as const, value: 0 }),
      );
      const repr = fc.record({ operation, senderHardware: mac, senderProtocol: ip, targetHardware: mac, targetProtocol: ip });
      fc.assert(
        fc.property(repr, (r) => {
          const buffer = poisoned(ARP_LENGTH + 1);
          expect(emitArp(r, buffer)).toBe(ARP_LENGTH);
          expect(buffer[ARP_LENGTH]).toBe(0xa5);
          expect(parseArp(packetOf(buffer))).toEqual(r);
        }),
      );
    });
  });
});
