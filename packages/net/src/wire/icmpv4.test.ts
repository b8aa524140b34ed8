import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Icmpv4Message, Icmpv4Packet, Icmpv4Type, UnreachableCode, emitIcmpv4, icmpv4Length, parseIcmpv4 } from './icmpv4.js';
import { Ipv4Packet } from './ipv4.js';
import { bytesFromTcpdump as hex, poisoned, unwrap } from '../test/wire-testing.js';

/*
 * Captures: two Linux network namespaces joined by a veth pair (MTU 1500, transmit checksum offload off),
 * 10.9.0.1/24 and 10.9.0.2/24; `tcpdump -i <veth> -w` on the 10.9.0.1 side, printed with
 * `tcpdump -r -xx`. Whole Ethernet frames. The echo pair is from `ping -c 2 -s 40`; the port unreachable
 * answers a python3 socket datagram to the closed UDP port 9. For the time exceeded and fragmentation
 * needed, 10.9.0.2 forwarded (ip_forward=1) to 10.9.1.0/24 over a route with `mtu lock 1000`, and
 * 10.9.0.1 ran `ping -c 1 -t 1 -s 8 10.9.1.5` and `ping -c 1 -M do -s 1200 10.9.1.5`.
 */

/** IP 10.9.0.1 > 10.9.0.2: ICMP echo request, id 17907, seq 1, length 48 */
const ECHO_REQUEST_FRAME = hex(`
  0x0000:  ae4e 3de4 01cd b2cf a08e 521e 0800 4500
  0x0010:  0044 aff7 4000 4001 76ad 0a09 0001 0a09
  0x0020:  0002 0800 1eda 45f3 0001 e597 046b 0000
  0x0030:  0000 5edd 0500 0000 0000 1011 1213 1415
  0x0040:  1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
  0x0050:  2627
`);

/** IP 10.9.0.2 > 10.9.0.1: ICMP echo reply, id 17907, seq 1, length 48 */
const ECHO_REPLY_FRAME = hex(`
  0x0000:  b2cf a08e 521e ae4e 3de4 01cd 0800 4500
  0x0010:  0044 070a 0000 4001 5f9b 0a09 0002 0a09
  0x0020:  0001 0000 26da 45f3 0001 e597 046b 0000
  0x0030:  0000 5edd 0500 0000 0000 1011 1213 1415
  0x0040:  1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
  0x0050:  2627
`);

/** IP 10.9.0.1.45885 > 10.9.0.2.9: UDP, length 18 ("hello closed port\n") */
const CLOSED_PORT_FRAME = hex(`
  0x0000:  ae4e 3de4 01cd b2cf a08e 521e 0800 4500
  0x0010:  002e 9cfb 4000 4011 89af 0a09 0001 0a09
  0x0020:  0002 b33d 0009 001a b83b 6865 6c6c 6f20
  0x0030:  636c 6f73 6564 2070 6f72 740a
`);

/** IP 10.9.0.2 > 10.9.0.1: ICMP 10.9.0.2 udp port 9 unreachable, length 54 (quoting the datagram above) */
const PORT_UNREACHABLE_FRAME = hex(`
  0x0000:  b2cf a08e 521e ae4e 3de4 01cd 0800 45c0
  0x0010:  004a 098a 0000 4001 5c55 0a09 0002 0a09
  0x0020:  0001 0303 113d 0000 0000 4500 002e 9cfb
  0x0030:  4000 4011 89af 0a09 0001 0a09 0002 b33d
  0x0040:  0009 001a b83b 6865 6c6c 6f20 636c 6f73
  0x0050:  6564 2070 6f72 740a
`);

/** IP 10.9.0.1 > 10.9.1.5: ICMP echo request, id 18101, seq 1, length 16 (ttl 1) */
const TTL_PROBE_FRAME = hex(`
  0x0000:  ae4e 3de4 01cd b2cf a08e 521e 0800 4500
  0x0010:  0024 de23 4000 0101 869e 0a09 0001 0a09
  0x0020:  0105 0800 a539 46b5 0001 0001 0203 0405
  0x0030:  0607
`);

/** IP 10.9.0.2 > 10.9.0.1: ICMP time exceeded in-transit, length 44 (quoting the probe above) */
const TIME_EXCEEDED_FRAME = hex(`
  0x0000:  b2cf a08e 521e ae4e 3de4 01cd 0800 45c0
  0x0010:  0040 1200 0000 4001 53e9 0a09 0002 0a09
  0x0020:  0001 0b00 f4ff 0000 0000 4500 0024 de23
  0x0030:  4000 0101 869e 0a09 0001 0a09 0105 0800
  0x0040:  a539 46b5 0001 0001 0203 0405 0607
`);

/** The first 48 bytes of the 1242-byte frame: IP 10.9.0.1 > 10.9.1.5: ICMP echo request, id 18102, seq 1, length 1208 (DF) */
const MTU_PROBE_FRAME_START = hex(`
  0x0000:  ae4e 3de4 01cd b2cf a08e 521e 0800 4500
  0x0010:  04cc 0000 4000 4001 211a 0a09 0001 0a09
  0x0020:  0105 0800 e180 46b6 0001 f497 046b 0000
`);

/** IP 10.9.0.2 > 10.9.0.1: ICMP 10.9.1.5 unreachable - need to frag (mtu 1000), length 556 (Linux quotes up to 576 bytes in all) */
const FRAGMENTATION_NEEDED_FRAME = hex(`
  0x0000:  b2cf a08e 521e ae4e 3de4 01cd 0800 45c0
  0x0010:  0240 1201 0000 4001 51e8 0a09 0002 0a09
  0x0020:  0001 0304 73e1 0000 03e8 4500 04cc 0000
  0x0030:  4000 4001 211a 0a09 0001 0a09 0105 0800
  0x0040:  e180 46b6 0001 f497 046b 0000 0000 05a8
  0x0050:  0200 0000 0000 1011 1213 1415 1617 1819
  0x0060:  1a1b 1c1d 1e1f 2021 2223 2425 2627 2829
  0x0070:  2a2b 2c2d 2e2f 3031 3233 3435 3637 3839
  0x0080:  3a3b 3c3d 3e3f 4041 4243 4445 4647 4849
  0x0090:  4a4b 4c4d 4e4f 5051 5253 5455 5657 5859
  0x00a0:  5a5b 5c5d 5e5f 6061 6263 6465 6667 6869
  0x00b0:  6a6b 6c6d 6e6f 7071 7273 7475 7677 7879
  0x00c0:  7a7b 7c7d 7e7f 8081 8283 8485 8687 8889
  0x00d0:  8a8b 8c8d 8e8f 9091 9293 9495 9697 9899
  0x00e0:  9a9b 9c9d 9e9f a0a1 a2a3 a4a5 a6a7 a8a9
  0x00f0:  aaab acad aeaf b0b1 b2b3 b4b5 b6b7 b8b9
  0x0100:  babb bcbd bebf c0c1 c2c3 c4c5 c6c7 c8c9
  0x0110:  cacb cccd cecf d0d1 d2d3 d4d5 d6d7 d8d9
  0x0120:  dadb dcdd dedf e0e1 e2e3 e4e5 e6e7 e8e9
  0x0130:  eaeb eced eeef f0f1 f2f3 f4f5 f6f7 f8f9
  0x0140:  fafb fcfd feff 0001 0203 0405 0607 0809
  0x0150:  0a0b 0c0d 0e0f 1011 1213 1415 1617 1819
  0x0160:  1a1b 1c1d 1e1f 2021 2223 2425 2627 2829
  0x0170:  2a2b 2c2d 2e2f 3031 3233 3435 3637 3839
  0x0180:  3a3b 3c3d 3e3f 4041 4243 4445 4647 4849
  0x0190:  4a4b 4c4d 4e4f 5051 5253 5455 5657 5859
  0x01a0:  5a5b 5c5d 5e5f 6061 6263 6465 6667 6869
  0x01b0:  6a6b 6c6d 6e6f 7071 7273 7475 7677 7879
  0x01c0:  7a7b 7c7d 7e7f 8081 8283 8485 8687 8889
  0x01d0:  8a8b 8c8d 8e8f 9091 9293 9495 9697 9899
  0x01e0:  9a9b 9c9d 9e9f a0a1 a2a3 a4a5 a6a7 a8a9
  0x01f0:  aaab acad aeaf b0b1 b2b3 b4b5 b6b7 b8b9
  0x0200:  babb bcbd bebf c0c1 c2c3 c4c5 c6c7 c8c9
  0x0210:  cacb cccd cecf d0d1 d2d3 d4d5 d6d7 d8d9
  0x0220:  dadb dcdd dedf e0e1 e2e3 e4e5 e6e7 e8e9
  0x0230:  eaeb eced eeef f0f1 f2f3 f4f5 f6f7 f8f9
  0x0240:  fafb fcfd feff 0001 0203 0405 0607
`);

/** The ICMP message of a captured frame: after the Ethernet and the 20-byte IP headers. */
const icmpOf = (frame: Uint8Array) => frame.subarray(14 + 20);

const ECHO_REQUEST = icmpOf(ECHO_REQUEST_FRAME);
const ECHO_REPLY = icmpOf(ECHO_REPLY_FRAME);
const PORT_UNREACHABLE = icmpOf(PORT_UNREACHABLE_FRAME);
const TIME_EXCEEDED = icmpOf(TIME_EXCEEDED_FRAME);
const FRAGMENTATION_NEEDED = icmpOf(FRAGMENTATION_NEEDED_FRAME);
const CAPTURED = [ECHO_REQUEST, ECHO_REPLY, PORT_UNREACHABLE, TIME_EXCEEDED, FRAGMENTATION_NEEDED];

const ECHO_REQUEST_MESSAGE: Icmpv4Message = { kind: 'echo-request', identifier: 17907, sequence: 1, data: ECHO_REQUEST.subarray(8) };
const ECHO_REPLY_MESSAGE: Icmpv4Message = { kind: 'echo-reply', identifier: 17907, sequence: 1, data: ECHO_REPLY.subarray(8) };
const PORT_UNREACHABLE_MESSAGE: Icmpv4Message = {
  kind: 'destination-unreachable',
  code: UnreachableCode.port,
  nextHopMtu: 0,
  original: CLOSED_PORT_FRAME.subarray(14),
};
const TIME_EXCEEDED_MESSAGE: Icmpv4Message = { kind: 'time-exceeded', code: 0, original: TTL_PROBE_FRAME.subarray(14) };
const FRAGMENTATION_NEEDED_MESSAGE: Icmpv4Message = {
  kind: 'destination-unreachable',
  code: UnreachableCode.fragmentationNeeded,
  nextHopMtu: 1000,
  original: FRAGMENTATION_NEEDED.subarray(8),
};

function packetOf(bytes: Uint8Array): Icmpv4Packet {
  return unwrap(Icmpv4Packet.checked(bytes));
}

function messageOf(bytes: Uint8Array): Icmpv4Message {
  return unwrap(parseIcmpv4(packetOf(bytes)));
}

/** Rewrites the checksum after a deliberate change. */
function fixChecksum(bytes: Uint8Array): Uint8Array {
  bytes[2] = 0;
  bytes[3] = 0;
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  bytes[2] = (~sum >> 8) & 0xff;
  bytes[3] = ~sum & 0xff;
  return bytes;
}

describe('ICMPv4', () => {
  it('deconstructs captured messages', () => {
    const rows = CAPTURED.map(packetOf).map((p) => [p.type, p.code, p.checksum, p.verifyChecksum()]);
    expect(rows).toEqual([
      [Icmpv4Type.echoRequest, 0, 0x1eda, true],
      [Icmpv4Type.echoReply, 0, 0x26da, true],
      [Icmpv4Type.destinationUnreachable, UnreachableCode.port, 0x113d, true],
      [Icmpv4Type.timeExceeded, 0, 0xf4ff, true],
      [Icmpv4Type.destinationUnreachable, UnreachableCode.fragmentationNeeded, 0x73e1, true],
    ]);
    expect(packetOf(ECHO_REQUEST).bytes).toBe(ECHO_REQUEST);
  });

  it('parses captured messages', () => {
    expect(messageOf(ECHO_REQUEST)).toEqual(ECHO_REQUEST_MESSAGE);
    expect(messageOf(ECHO_REPLY)).toEqual(ECHO_REPLY_MESSAGE);
    expect(messageOf(PORT_UNREACHABLE)).toEqual(PORT_UNREACHABLE_MESSAGE); // the quote is the whole datagram that was sent
    expect(messageOf(TIME_EXCEEDED)).toEqual(TIME_EXCEEDED_MESSAGE); // the quote is the probe as it arrived (ttl 1)
    expect(messageOf(FRAGMENTATION_NEEDED)).toEqual(FRAGMENTATION_NEEDED_MESSAGE);
  });

  it('gives the quote of a fragmentation needed as received: cut short of its own total length', () => {
    const message = messageOf(FRAGMENTATION_NEEDED);
    if (message.kind !== 'destination-unreachable') throw new Error(message.kind);
    expect(message.nextHopMtu).toBe(1000);
    expect(message.original.length).toBe(548);
    expect(Array.from(message.original.subarray(0, 28))).toEqual(Array.from(MTU_PROBE_FRAME_START.subarray(14, 42)));
    // The quoted header says 1228 bytes: a reader of quotes reads the header's fields, not Ipv4Packet.checked.
    expect(Ipv4Packet.checked(message.original)).toMatchObject({ ok: false, error: { kind: 'truncated' } });
  });

  it.each([
    ['echo request', ECHO_REQUEST_MESSAGE, ECHO_REQUEST],
    ['echo reply', ECHO_REPLY_MESSAGE, ECHO_REPLY],
    ['port unreachable', PORT_UNREACHABLE_MESSAGE, PORT_UNREACHABLE],
    ['time exceeded', TIME_EXCEEDED_MESSAGE, TIME_EXCEEDED],
    ['fragmentation needed', FRAGMENTATION_NEEDED_MESSAGE, FRAGMENTATION_NEEDED],
  ])('constructs the captured %s byte for byte into a poisoned buffer', (_name, message, captured) => {
    expect(icmpv4Length(message)).toBe(captured.length);
    const buffer = poisoned(captured.length + 4);
    expect(emitIcmpv4(message, buffer)).toBe(captured.length);
    expect(Array.from(buffer.subarray(0, captured.length))).toEqual(Array.from(captured));
    expect(Array.from(buffer.subarray(captured.length))).toEqual([0xa5, 0xa5, 0xa5, 0xa5]); // nothing written past the message
  });

  it('turns the captured request into the captured reply in place', () => {
    const buffer = Uint8Array.from(ECHO_REQUEST);
    const request = messageOf(buffer);
    if (request.kind !== 'echo-request') throw new Error(request.kind);
    expect(request.data.buffer).toBe(buffer.buffer);
    expect(emitIcmpv4({ ...request, kind: 'echo-reply' }, buffer)).toBe(ECHO_REPLY.length);
    expect(Array.from(buffer)).toEqual(Array.from(ECHO_REPLY));
  });

  it('reads the next-hop MTU only for code 4', () => {
    const unreachable = Uint8Array.from(PORT_UNREACHABLE);
    unreachable[6] = 0x05; // unused bytes of a port unreachable, set (RFC 4884 gives byte 5 a meaning, byte 6 none)
    unreachable[7] = 0xdc;
    expect(messageOf(fixChecksum(unreachable))).toEqual(PORT_UNREACHABLE_MESSAGE);
    const buffer = poisoned(PORT_UNREACHABLE.length);
    emitIcmpv4({ ...PORT_UNREACHABLE_MESSAGE, nextHopMtu: 1500 }, buffer);
    expect(Array.from(buffer)).toEqual(Array.from(PORT_UNREACHABLE)); // and writes it only for code 4
  });

  it('copies a body that lies elsewhere in the same memory as the buffer', () => {
    const arena = new Uint8Array(256).fill(0xa5);
    arena.set(ECHO_REQUEST, 100);
    const data = arena.subarray(108, 100 + ECHO_REQUEST.length);
    expect(emitIcmpv4({ ...ECHO_REQUEST_MESSAGE, data }, arena.subarray(0, 100))).toBe(ECHO_REQUEST.length);
    expect(Array.from(arena.subarray(0, ECHO_REQUEST.length))).toEqual(Array.from(ECHO_REQUEST));
  });

  it('refuses a flipped byte with kind checksum, unless verification is off', () => {
    for (const captured of CAPTURED) {
      for (let at = 0; at < captured.length; at += 7) {
        const bytes = Uint8Array.from(captured);
        bytes[at] = bytes[at]! ^ 0x01;
        expect(packetOf(bytes).verifyChecksum()).toBe(false);
        expect(parseIcmpv4(packetOf(bytes))).toMatchObject({ ok: false, error: { kind: 'checksum' } });
        expect(parseIcmpv4(packetOf(bytes), { verifyChecksum: false }).ok).toBe(true);
      }
    }
    const reply = Uint8Array.from(ECHO_REPLY);
    reply[7] = 2; // sequence 2, checksum left stale
    expect(parseIcmpv4(packetOf(reply), { verifyChecksum: false })).toEqual({
      ok: true,
      value: { ...ECHO_REPLY_MESSAGE, sequence: 2, data: reply.subarray(8) },
    });
  });

  it('refuses every length under 8 as truncated', () => {
    for (let length = 0; length < 8; length++) {
      expect(Icmpv4Packet.checked(ECHO_REQUEST.subarray(0, length))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    }
    expect(messageOf(fixChecksum(Uint8Array.from(ECHO_REQUEST.subarray(0, 8))))).toMatchObject({
      kind: 'echo-request',
      data: new Uint8Array(0),
    });
  });

  it('keeps an unknown type as data, and emits it back', () => {
    const timestamp = Uint8Array.from(ECHO_REQUEST);
    timestamp[0] = 13; // timestamp request: not one the stack speaks
    fixChecksum(timestamp);
    const message = messageOf(timestamp);
    expect(message).toEqual({ kind: 'unknown', type: 13, code: 0, body: timestamp.subarray(4) });
    expect(icmpv4Length(message)).toBe(timestamp.length);
    const buffer = poisoned(timestamp.length);
    emitIcmpv4(message, buffer);
    expect(Array.from(buffer)).toEqual(Array.from(timestamp));
  });

  it('keeps an unknown code of a known type as data', () => {
    const prohibited = Uint8Array.from(PORT_UNREACHABLE);
    prohibited[1] = 13; // communication administratively prohibited
    fixChecksum(prohibited);
    expect(messageOf(prohibited)).toEqual({ ...PORT_UNREACHABLE_MESSAGE, code: 13 });
    const buffer = poisoned(prohibited.length);
    emitIcmpv4({ ...PORT_UNREACHABLE_MESSAGE, code: 13 }, buffer);
    expect(Array.from(buffer)).toEqual(Array.from(prohibited));
  });

  describe('properties', () => {
    const exercise = (bytes: Uint8Array) => {
      const result = Icmpv4Packet.checked(bytes);
      if (!result.ok) return;
      const p = result.value;
      void [p.type, p.code, p.checksum, p.verifyChecksum()];
      parseIcmpv4(p);
      const parsed = parseIcmpv4(p, { verifyChecksum: false });
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(icmpv4Length(parsed.value)).toBe(bytes.length);
    };

    it('never throws on random bytes', () => {
      const typed = fc
        .tuple(fc.constantFrom(0, 3, 8, 11, 5, 13), fc.uint8Array({ maxLength: 60 }))
        .map(([type, rest]) => Uint8Array.from([type, ...rest]));
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 60 }), typed), (bytes) => {
          exercise(bytes);
        }),
      );
    });

    it('never throws on mutated captured messages', () => {
      const mutated = fc
        .tuple(fc.constantFrom(...CAPTURED), fc.array(fc.tuple(fc.nat(15), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(60))
        .map(([base, changes, cut]) => {
          const bytes = Uint8Array.from(base.subarray(0, Math.max(0, base.length - cut)));
          for (const [at, value] of changes) if (at < bytes.length) bytes[at] = value;
          return bytes;
        });
      fc.assert(
        fc.property(mutated, (bytes) => {
          exercise(bytes);
        }),
      );
    });

    it('emit then parse gives the message back', () => {
      const u16 = fc.integer({ min: 0, max: 0xffff });
      const u8 = fc.integer({ min: 0, max: 255 });
      const message: fc.Arbitrary<Icmpv4Message> = fc.oneof(
        fc.record({
          kind: fc.constantFrom('echo-request' as const, 'echo-reply' as const),
          identifier: u16,
          sequence: u16,
          data: fc.uint8Array({ maxLength: 100 }),
        }),
        fc.record({
          kind: fc.constant('destination-unreachable' as const),
          code: u8.filter((c) => c !== 4),
          nextHopMtu: fc.constant(0),
          original: fc.uint8Array({ maxLength: 100 }),
        }),
        fc.record({
          kind: fc.constant('destination-unreachable' as const),
          code: fc.constant(4),
          nextHopMtu: u16,
          original: fc.uint8Array({ maxLength: 100 }),
        }),
        fc.record({ kind: fc.constant('time-exceeded' as const), code: u8, original: fc.uint8Array({ maxLength: 100 }) }),
        fc.record({
          kind: fc.constant('unknown' as const),
          type: u8.filter((t) => t !== 0 && t !== 3 && t !== 8 && t !== 11),
          code: u8,
          body: fc.uint8Array({ minLength: 4, maxLength: 100 }),
        }),
      );
      fc.assert(
        fc.property(message, (m) => {
          const length = icmpv4Length(m);
          const buffer = poisoned(length + 1);
          expect(emitIcmpv4(m, buffer)).toBe(length);
          expect(buffer[length]).toBe(0xa5);
          expect(messageOf(buffer.subarray(0, length))).toEqual(m);
        }),
      );
    });
  });
});
