import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IpAddress, ipv4Address, ipv4FromNumber } from './address.js';
import {
  TCP_HEADER_LENGTH,
  TcpFlag,
  type TcpOption,
  TcpPacket,
  type TcpRepr,
  emitTcp,
  emptyTcpSegment,
  parseTcp,
  parseTcpOptions,
  readTcpSegment,
  tcpHeaderLength,
} from './tcp.js';
import { bytesFromTcpdump as hex, poisoned, unwrap } from '../test/wire-testing.js';

/*
 * Captures: two Linux 6.18 network namespaces joined by a veth pair, 10.9.1.1/24 and 10.9.1.2/24, with
 * checksum and segmentation offloads off (`ethtool -K <veth> tx off tso off gso off gro off`: with them
 * on, a capture holds only the pseudo-header sum), printed with `tcpdump -r <pcap> -xx`; whole Ethernet
 * frames. The handshake, data and close: `printf 'hello from a\n' | nc -l 10.9.1.1 7777` against
 * `printf 'hello uos\n' | nc -q 1 10.9.1.1 7777` from 10.9.1.2. The SACK: curl fetching 400 kB from
 * `python3 -m http.server` on 10.9.1.1 while an nftables rule on 10.9.1.2 (`numgen random mod 5 == 0
 * drop` on its input hook) dropped a fifth of the data segments. The SYN variants and the RST: `nc -z`
 * to closed ports with the client namespace's net.ipv4.tcp_timestamps, tcp_sack and tcp_window_scaling
 * turned off one by one. tcpdump prints sequence numbers relative to the SYN unless -S; the bytes hold
 * the absolute ones.
 */

/** IP 10.9.1.2.43200 > 10.9.1.1.7777: Flags [S], seq 2429361085, win 64240, options [mss 1460,sackOK,TS val 4279749553 ecr 0,nop,wscale 10], length 0 */
const SYN_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  003c a20d 4000 4006 829a 0a09 0102 0a09
  0x0020:  0101 a8c0 1e61 90cd 1bbd 0000 0000 a002
  0x0030:  faf0 f881 0000 0204 05b4 0402 080a ff17
  0x0040:  cbb1 0000 0000 0103 030a
`);

/** IP 10.9.1.1.7777 > 10.9.1.2.43200: Flags [S.], seq 531247933, ack 2429361086, win 65160, options [mss 1460,sackOK,TS val 2205362486 ecr 4279749553,nop,wscale 10], length 0 */
const SYN_ACK_FRAME = hex(`
  0x0000:  32f7 4336 20b9 4a28 899a db51 0800 4500
  0x0010:  003c 0000 4000 4006 24a8 0a09 0101 0a09
  0x0020:  0102 1e61 a8c0 1faa 333d 90cd 1bbe a012
  0x0030:  fe88 f547 0000 0204 05b4 0402 080a 8373
  0x0040:  2936 ff17 cbb1 0103 030a
`);

/** IP 10.9.1.2.43200 > 10.9.1.1.7777: Flags [.], ack 1, win 63, options [nop,nop,TS val 4279749553 ecr 2205362486], length 0 */
const ACK_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  0034 a20e 4000 4006 82a1 0a09 0102 0a09
  0x0020:  0101 a8c0 1e61 90cd 1bbe 1faa 333e 8010
  0x0030:  003f 2261 0000 0101 080a ff17 cbb1 8373
  0x0040:  2936
`);

/** IP 10.9.1.2.43200 > 10.9.1.1.7777: Flags [P.], seq 1:11, ack 1, win 63, options [nop,nop,TS val 4279749553 ecr 2205362486], length 10 */
const DATA_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  003e a20f 4000 4006 8296 0a09 0102 0a09
  0x0020:  0101 a8c0 1e61 90cd 1bbe 1faa 333e 8018
  0x0030:  003f f5e2 0000 0101 080a ff17 cbb1 8373
  0x0040:  2936 6865 6c6c 6f20 756f 730a
`);

/** IP 10.9.1.2.43200 > 10.9.1.1.7777: Flags [F.], seq 11, ack 1, win 63, options [nop,nop,TS val 4279749553 ecr 2205362486], length 0 */
const FIN_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  0034 a210 4000 4006 829f 0a09 0102 0a09
  0x0020:  0101 a8c0 1e61 90cd 1bc8 1faa 333e 8011
  0x0030:  003f 2256 0000 0101 080a ff17 cbb1 8373
  0x0040:  2936
`);

/** IP 10.9.1.2.48588 > 10.9.1.1.8000: Flags [.], ack 3222308173, win 78, options [nop,nop,TS val 1306686303 ecr 324964151,nop,nop,sack 3 {3222319757:3222321205}{3222316861:3222318309}{3222311069:3222315413}], length 0 */
const SACK_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  0050 ce95 4000 4006 55fe 0a09 0102 0a09
  0x0020:  0101 bdcc 1f40 bb06 41b3 c010 854d f010
  0x0030:  004e f5a8 0000 0101 080a 4de2 735f 135e
  0x0040:  8f37 0101 051a c010 b28d c010 b835 c010
  0x0050:  a73d c010 ace5 c010 909d c010 a195
`);

/** IP 10.9.1.2.36810 > 10.9.1.1.9: Flags [S], seq 2035286162, win 64240, options [mss 1460,nop,nop,sackOK,nop,wscale 10], length 0 */
const SYN_NO_TIMESTAMPS_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  0034 c83f 4000 4006 5c70 0a09 0102 0a09
  0x0020:  0101 8fca 0009 7950 0092 0000 0000 8002
  0x0030:  faf0 5453 0000 0204 05b4 0101 0402 0103
  0x0040:  030a
`);

/** IP 10.9.1.1.9 > 10.9.1.2.36810: Flags [R.], seq 0, ack 2035286163, win 0, length 0 */
const RST_FRAME = hex(`
  0x0000:  32f7 4336 20b9 4a28 899a db51 0800 4500
  0x0010:  0028 0000 4000 4006 24bc 0a09 0101 0a09
  0x0020:  0102 0009 8fca 0000 0000 7950 0093 5014
  0x0030:  0000 9005 0000
`);

/** IP 10.9.1.2.37152 > 10.9.1.1.10: Flags [S], seq 244927571, win 64240, options [mss 1460,nop,nop,TS val 307240231 ecr 0,nop,wscale 10], length 0 */
const SYN_NO_SACK_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  003c a34b 4000 4006 815c 0a09 0102 0a09
  0x0020:  0101 9120 000a 0e99 4c53 0000 0000 a002
  0x0030:  faf0 1e6b 0000 0204 05b4 0101 080a 1250
  0x0040:  1d27 0000 0000 0103 030a
`);

/** IP 10.9.1.2.43232 > 10.9.1.1.11: Flags [S], seq 635711418, win 64240, options [mss 1460,nop,wscale 10], length 0 */
const SYN_SCALE_ONLY_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  0030 2080 4000 4006 0434 0a09 0102 0a09
  0x0020:  0101 a8e0 000b 25e4 2fba 0000 0000 7002
  0x0030:  faf0 7486 0000 0204 05b4 0103 030a
`);

/** IP 10.9.1.2.51828 > 10.9.1.1.12: Flags [S], seq 2891533586, win 64240, options [mss 1460], length 0 */
const SYN_MSS_ONLY_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  002c 825c 4000 4006 a25b 0a09 0102 0a09
  0x0020:  0101 ca74 000c ac59 4d12 0000 0000 6002
  0x0030:  faf0 c334 0000 0204 05b4
`);

const segment = (frame: Uint8Array) => frame.subarray(14 + 20);
const SYN = segment(SYN_FRAME);
const SYN_ACK = segment(SYN_ACK_FRAME);
const ACK = segment(ACK_FRAME);
const DATA = segment(DATA_FRAME);
const FIN = segment(FIN_FRAME);
const SACK = segment(SACK_FRAME);
const SYN_NO_TIMESTAMPS = segment(SYN_NO_TIMESTAMPS_FRAME);
const RST = segment(RST_FRAME);
const SYN_NO_SACK = segment(SYN_NO_SACK_FRAME);
const SYN_SCALE_ONLY = segment(SYN_SCALE_ONLY_FRAME);
const SYN_MSS_ONLY = segment(SYN_MSS_ONLY_FRAME);

const A = ipv4Address('10.9.1.1');
const B = ipv4Address('10.9.1.2');
const NONE = new Uint8Array(0);

/** Each capture, its addresses and the repr it parses to. */
const CAPTURED: [string, Uint8Array, IpAddress, IpAddress, TcpRepr & { payload: Uint8Array }][] = [
  [
    'SYN',
    SYN,
    B,
    A,
    {
      sourcePort: 43200,
      destinationPort: 7777,
      sequence: 2429361085,
      acknowledgment: 0,
      flags: TcpFlag.syn,
      window: 64240,
      mss: 1460,
      sackPermitted: true,
      timestamps: { value: 4279749553, echo: 0 },
      windowScale: 10,
      payload: NONE,
    },
  ],
  [
    'SYN-ACK',
    SYN_ACK,
    A,
    B,
    {
      sourcePort: 7777,
      destinationPort: 43200,
      sequence: 531247933,
      acknowledgment: 2429361086,
      flags: TcpFlag.syn | TcpFlag.ack,
      window: 65160,
      mss: 1460,
      sackPermitted: true,
      timestamps: { value: 2205362486, echo: 4279749553 },
      windowScale: 10,
      payload: NONE,
    },
  ],
  [
    'ACK',
    ACK,
    B,
    A,
    {
      sourcePort: 43200,
      destinationPort: 7777,
      sequence: 2429361086,
      acknowledgment: 531247934,
      flags: TcpFlag.ack,
      window: 63,
      timestamps: { value: 4279749553, echo: 2205362486 },
      payload: NONE,
    },
  ],
  [
    'data',
    DATA,
    B,
    A,
    {
      sourcePort: 43200,
      destinationPort: 7777,
      sequence: 2429361086,
      acknowledgment: 531247934,
      flags: TcpFlag.psh | TcpFlag.ack,
      window: 63,
      timestamps: { value: 4279749553, echo: 2205362486 },
      payload: Uint8Array.from('hello uos\n', (c) => c.charCodeAt(0)),
    },
  ],
  [
    'FIN',
    FIN,
    B,
    A,
    {
      sourcePort: 43200,
      destinationPort: 7777,
      sequence: 2429361096,
      acknowledgment: 531247934,
      flags: TcpFlag.fin | TcpFlag.ack,
      window: 63,
      timestamps: { value: 4279749553, echo: 2205362486 },
      payload: NONE,
    },
  ],
  [
    'SACK',
    SACK,
    B,
    A,
    {
      sourcePort: 48588,
      destinationPort: 8000,
      sequence: 3137749427,
      acknowledgment: 3222308173,
      flags: TcpFlag.ack,
      window: 78,
      timestamps: { value: 1306686303, echo: 324964151 },
      sackBlocks: [
        [3222319757, 3222321205],
        [3222316861, 3222318309],
        [3222311069, 3222315413],
      ],
      payload: NONE,
    },
  ],
  [
    'SYN without timestamps',
    SYN_NO_TIMESTAMPS,
    B,
    A,
    {
      sourcePort: 36810,
      destinationPort: 9,
      sequence: 2035286162,
      acknowledgment: 0,
      flags: TcpFlag.syn,
      window: 64240,
      mss: 1460,
      sackPermitted: true,
      windowScale: 10,
      payload: NONE,
    },
  ],
  [
    'RST',
    RST,
    A,
    B,
    {
      sourcePort: 9,
      destinationPort: 36810,
      sequence: 0,
      acknowledgment: 2035286163,
      flags: TcpFlag.rst | TcpFlag.ack,
      window: 0,
      payload: NONE,
    },
  ],
  [
    'SYN without SACK',
    SYN_NO_SACK,
    B,
    A,
    {
      sourcePort: 37152,
      destinationPort: 10,
      sequence: 244927571,
      acknowledgment: 0,
      flags: TcpFlag.syn,
      window: 64240,
      mss: 1460,
      timestamps: { value: 307240231, echo: 0 },
      windowScale: 10,
      payload: NONE,
    },
  ],
  [
    'SYN with window scale only',
    SYN_SCALE_ONLY,
    B,
    A,
    {
      sourcePort: 43232,
      destinationPort: 11,
      sequence: 635711418,
      acknowledgment: 0,
      flags: TcpFlag.syn,
      window: 64240,
      mss: 1460,
      windowScale: 10,
      payload: NONE,
    },
  ],
  [
    'SYN with MSS only',
    SYN_MSS_ONLY,
    B,
    A,
    {
      sourcePort: 51828,
      destinationPort: 12,
      sequence: 2891533586,
      acknowledgment: 0,
      flags: TcpFlag.syn,
      window: 64240,
      mss: 1460,
      payload: NONE,
    },
  ],
];

function packetOf(bytes: Uint8Array): TcpPacket {
  return unwrap(TcpPacket.checked(bytes));
}

/** A segment with the ACK's fixed header and these option bytes (a multiple of 4); its checksum is not fixed. */
function withOptions(options: number[]): TcpPacket {
  const bytes = new Uint8Array(TCP_HEADER_LENGTH + options.length);
  bytes.set(ACK.subarray(0, TCP_HEADER_LENGTH));
  bytes[12] = ((TCP_HEADER_LENGTH + options.length) / 4) << 4;
  bytes.set(options, TCP_HEADER_LENGTH);
  return packetOf(bytes);
}

function optionsOf(packet: TcpPacket): TcpOption[] {
  return unwrap(parseTcpOptions(packet.optionBytes));
}

/** Emits the repr with the payload into a poisoned buffer with 4 spare bytes; returns the buffer and the length written. */
function emitted(repr: TcpRepr, payload: Uint8Array, source: IpAddress, destination: IpAddress): [Uint8Array, number] {
  const headerLength = tcpHeaderLength(repr);
  const buffer = poisoned(headerLength + payload.length + 4);
  buffer.set(payload, headerLength);
  return [buffer, emitTcp(repr, buffer, payload.length, source, destination)];
}

describe('TCP', () => {
  it('deconstructs a captured SYN', () => {
    const syn = packetOf(SYN);
    expect(syn.bytes).toBe(SYN);
    expect([syn.sourcePort, syn.destinationPort, syn.sequence, syn.acknowledgment]).toEqual([43200, 7777, 2429361085, 0]);
    expect([syn.headerLength, syn.flags, syn.window, syn.checksum, syn.urgentPointer]).toEqual([40, TcpFlag.syn, 64240, 0xf881, 0]);
    expect(Array.from(syn.optionBytes)).toEqual([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0xff, 0x17, 0xcb, 0xb1, 0, 0, 0, 0, 1, 3, 3, 10]);
    expect(syn.payload.length).toBe(0);
    expect(syn.verifyChecksum(B, A)).toBe(true);
    const data = packetOf(DATA);
    expect([data.headerLength, data.flags, data.sequence, data.acknowledgment]).toEqual([
      32,
      TcpFlag.psh | TcpFlag.ack,
      2429361086,
      531247934,
    ]);
    expect(String.fromCharCode(...data.payload)).toBe('hello uos\n');
    expect(data.payload.buffer).toBe(DATA.buffer); // a view, not a copy
  });

  it('lists the options of a SYN and of a SACK in order', () => {
    expect(optionsOf(packetOf(SYN))).toEqual([
      { kind: 'mss', value: 1460 },
      { kind: 'sack-permitted' },
      { kind: 'timestamps', value: 4279749553, echo: 0 },
      { kind: 'nop' },
      { kind: 'window-scale', shift: 10 },
    ]);
    expect(optionsOf(packetOf(SACK))).toEqual([
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'timestamps', value: 1306686303, echo: 324964151 },
      { kind: 'nop' },
      { kind: 'nop' },
      {
        kind: 'sack',
        blocks: [
          [3222319757, 3222321205],
          [3222316861, 3222318309],
          [3222311069, 3222315413],
        ],
      },
    ]);
    expect(optionsOf(packetOf(RST))).toEqual([]);
  });

  it.each(CAPTURED)('parses the captured %s to a repr', (_name, bytes, source, destination, repr) => {
    const packet = packetOf(bytes);
    expect(packet.verifyChecksum(source, destination)).toBe(true);
    expect(parseTcp(packet, source, destination)).toEqual({ ok: true, value: repr });
  });

  it.each(CAPTURED)('constructs the captured %s byte for byte into a poisoned buffer', (_name, bytes, source, destination, repr) => {
    const { payload, ...header } = repr;
    expect(tcpHeaderLength(header)).toBe(packetOf(bytes).headerLength);
    const [buffer, length] = emitted(header, payload, source, destination);
    expect(length).toBe(bytes.length);
    expect(Array.from(buffer.subarray(0, length))).toEqual(Array.from(bytes));
    expect(Array.from(buffer.subarray(length))).toEqual([0xa5, 0xa5, 0xa5, 0xa5]); // nothing written past the segment
  });

  it('refuses a flipped byte with kind checksum, unless verification is off', () => {
    for (const [, captured, source, destination] of CAPTURED) {
      for (let at = 0; at < captured.length; at++) {
        const bytes = Uint8Array.from(captured);
        bytes[at] = bytes[at]! ^ 0x02; // never touches the data offset (the high nibble of byte 12)
        const packet = packetOf(bytes);
        expect(packet.verifyChecksum(source, destination)).toBe(false);
        expect(parseTcp(packet, source, destination)).toMatchObject({ ok: false, error: { kind: 'checksum' } });
        const unverified = parseTcp(packet, source, destination, { verifyChecksum: false });
        if (!unverified.ok) expect(unverified.error.kind).toBe('malformed'); // a flipped option length
      }
    }
  });

  it('checks the pseudo-header: other addresses do not verify', () => {
    const syn = packetOf(SYN);
    expect(syn.verifyChecksum(A, B)).toBe(true); // the sum is commutative in the two addresses
    expect(syn.verifyChecksum(B, ipv4Address('10.9.1.3'))).toBe(false);
    expect(parseTcp(syn, ipv4Address('10.9.1.3'), A)).toMatchObject({ ok: false, error: { kind: 'checksum' } });
    expect(parseTcp(syn, ipv4Address('10.9.1.3'), A, { verifyChecksum: false }).ok).toBe(true);
  });

  it('refuses every length under 20 as truncated', () => {
    for (let length = 0; length < TCP_HEADER_LENGTH; length++) {
      expect(TcpPacket.checked(SYN.subarray(0, length))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    }
  });

  it('refuses a data offset under 5 as malformed and one past the bytes as truncated', () => {
    const withOffset = (bytes: Uint8Array, words: number) => {
      const b = Uint8Array.from(bytes);
      b[12] = (words << 4) | (b[12]! & 0x0f);
      return b;
    };
    for (let words = 0; words < 5; words++) {
      expect(TcpPacket.checked(withOffset(SYN, words))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    }
    expect(TcpPacket.checked(withOffset(SYN, 5)).ok).toBe(true); // the options become payload
    expect(TcpPacket.checked(withOffset(SYN, 11))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    expect(TcpPacket.checked(withOffset(RST, 15))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    for (let length = TCP_HEADER_LENGTH; length < 40; length++) {
      expect(TcpPacket.checked(SYN.subarray(0, length))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    }
    expect(packetOf(SYN.subarray(0, 40)).headerLength).toBe(40);
  });

  it.each([
    ['an option running past the header', [1, 1, 8, 10]],
    ['a SACK running past the header', [5, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['a length of 0', [30, 0, 1, 1]],
    ['a length of 1', [30, 1, 1, 1]],
    ['no length byte', [1, 1, 1, 30]],
    ['an MSS of length 3', [2, 3, 5, 1]],
    ['an MSS of length 5', [2, 5, 5, 0xb4, 0, 1, 1, 1]],
    ['a window scale of length 4', [3, 4, 10, 1]],
    ['a SACK-permitted of length 3', [4, 3, 0, 1]],
    ['timestamps of length 8', [8, 8, 0, 0, 0, 0, 0, 0]],
    ['a SACK without blocks', [5, 2, 1, 1]],
    ['a SACK with half a block', [5, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]],
  ])('refuses options with %s as malformed', (_name, options) => {
    const packet = withOptions(options);
    expect(parseTcpOptions(packet.optionBytes)).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    expect(parseTcp(packet, B, A, { verifyChecksum: false })).toMatchObject({ ok: false, error: { kind: 'malformed' } });
  });

  it('keeps unknown options as data in the list and skips them in the repr', () => {
    // MSS, an MPTCP option (30) with two bytes, a Fast Open cookie request (34, empty), NOP, EOL.
    const packet = withOptions([2, 4, 0x05, 0xb4, 30, 4, 0x10, 0x81, 34, 2, 1, 0]);
    expect(optionsOf(packet)).toEqual([
      { kind: 'mss', value: 1460 },
      { kind: 'unknown', type: 30, data: Uint8Array.of(0x10, 0x81) },
      { kind: 'unknown', type: 34, data: NONE },
      { kind: 'nop' },
      { kind: 'end' },
    ]);
    const parsed = parseTcp(packet, B, A, { verifyChecksum: false });
    expect(parsed.ok && parsed.value.mss).toBe(1460);
    expect(parsed.ok && Object.keys(parsed.value).sort()).toEqual([
      'acknowledgment',
      'destinationPort',
      'flags',
      'mss',
      'payload',
      'sequence',
      'sourcePort',
      'window',
    ]);
  });

  it('stops at the end-of-options list: what follows is padding', () => {
    const packet = withOptions([2, 4, 0x05, 0xb4, 0, 0xff, 0xff, 0xff]);
    expect(optionsOf(packet)).toEqual([{ kind: 'mss', value: 1460 }, { kind: 'end' }]);
    expect(parseTcp(packet, B, A, { verifyChecksum: false })).toMatchObject({ ok: true, value: { mss: 1460 } });
  });

  it('reads the urgent pointer only when URG is set', () => {
    const bytes = Uint8Array.from(DATA);
    bytes[18] = 0;
    bytes[19] = 5;
    const packet = packetOf(bytes);
    expect(packet.urgentPointer).toBe(5);
    const plain = parseTcp(packet, B, A, { verifyChecksum: false });
    expect(plain.ok && 'urgentPointer' in plain.value).toBe(false);
    bytes[13] = bytes[13]! | TcpFlag.urg;
    expect(parseTcp(packet, B, A, { verifyChecksum: false })).toMatchObject({
      ok: true,
      value: { urgentPointer: 5, flags: TcpFlag.urg | TcpFlag.psh | TcpFlag.ack },
    });
  });

  it.each([
    ['no options', {}, 20],
    ['an MSS', { mss: 536 }, 24],
    ['SACK-permitted', { sackPermitted: true }, 24],
    ["a SYN's four", { mss: 1460, sackPermitted: true, timestamps: { value: 1, echo: 0 }, windowScale: 7 }, 40],
    ['timestamps', { timestamps: { value: 1, echo: 2 } }, 32],
    [
      '4 SACK blocks',
      {
        sackBlocks: [
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
        ] as [number, number][],
      },
      56,
    ],
    [
      '5 SACK blocks (4 fit)',
      {
        sackBlocks: [
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
          [9, 10],
        ] as [number, number][],
      },
      56,
    ],
    [
      '4 SACK blocks and timestamps (3 fit)',
      {
        timestamps: { value: 1, echo: 2 },
        sackBlocks: [
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
        ] as [number, number][],
      },
      60,
    ],
    [
      'everything (2 blocks fit)',
      {
        mss: 1,
        windowScale: 1,
        timestamps: { value: 1, echo: 2 },
        sackBlocks: [
          [1, 2],
          [3, 4],
          [5, 6],
        ] as [number, number][],
      },
      60,
    ],
    ['an empty SACK list', { sackBlocks: [] }, 20],
  ])('gives a header length for %s', (_name, options, length) => {
    const repr: TcpRepr = { sourcePort: 1, destinationPort: 2, sequence: 3, acknowledgment: 4, flags: TcpFlag.ack, window: 5, ...options };
    expect(tcpHeaderLength(repr)).toBe(length);
    const [buffer, written] = emitted(repr, NONE, A, B);
    expect(written).toBe(length);
    expect(packetOf(buffer.subarray(0, written)).headerLength).toBe(length);
  });

  it('writes the SACK blocks that fit, first ones first', () => {
    const blocks: [number, number][] = [
      [10, 20],
      [30, 40],
      [50, 60],
      [70, 80],
    ];
    const repr: TcpRepr = {
      sourcePort: 1,
      destinationPort: 2,
      sequence: 3,
      acknowledgment: 4,
      flags: TcpFlag.ack,
      window: 5,
      timestamps: { value: 6, echo: 7 },
      sackBlocks: blocks,
    };
    const [buffer, length] = emitted(repr, NONE, A, B);
    const parsed = parseTcp(packetOf(buffer.subarray(0, length)), A, B);
    expect(parsed).toMatchObject({ ok: true, value: { sackBlocks: blocks.slice(0, 3), timestamps: { value: 6, echo: 7 } } });
    expect(Array.from(buffer.subarray(20, 24))).toEqual([1, 1, 8, 10]);
    expect(Array.from(buffer.subarray(32, 36))).toEqual([1, 1, 5, 26]);
  });

  describe('properties', () => {
    const address = fc.nat({ max: 0xffffffff }).map(ipv4FromNumber);
    const exercise = (bytes: Uint8Array, source: IpAddress, destination: IpAddress) => {
      parseTcpOptions(bytes);
      const result = TcpPacket.checked(bytes);
      if (!result.ok) return;
      const p = result.value;
      void [p.sourcePort, p.destinationPort, p.sequence, p.acknowledgment, p.flags, p.window, p.checksum, p.urgentPointer];
      expect(p.optionBytes.length + p.payload.length + TCP_HEADER_LENGTH).toBe(bytes.length);
      p.verifyChecksum(source, destination);
      parseTcpOptions(p.optionBytes);
      parseTcp(p, source, destination);
      const unverified = parseTcp(p, source, destination, { verifyChecksum: false });
      if (!unverified.ok) expect(unverified.error.kind).toBe('malformed');
    };

    it('never throws on random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), address, address, (bytes, s, d) => {
          exercise(bytes, s, d);
        }),
        { numRuns: 2000 },
      );
    });

    it('never throws on random option areas after a valid header', () => {
      fc.assert(
        fc.property(
          fc.array(fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 8, 10), fc.integer({ min: 0, max: 255 })), { maxLength: 40 }),
          (options) => {
            const padded = [...options, ...new Array<number>((4 - (options.length % 4)) % 4).fill(1)];
            const packet = withOptions(padded);
            const list = parseTcpOptions(packet.optionBytes);
            const parsed = parseTcp(packet, A, B, { verifyChecksum: false });
            expect(parsed.ok).toBe(list.ok);
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('never throws on mutated captured segments', () => {
      const mutated = fc
        .tuple(
          fc.constantFrom(...CAPTURED.map(([, bytes]) => bytes)),
          fc.array(fc.tuple(fc.nat(59), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
          fc.nat(50),
        )
        .map(([base, changes, cut]) => {
          const bytes = Uint8Array.from(base.subarray(0, Math.max(0, base.length - cut)));
          for (const [at, value] of changes) if (at < bytes.length) bytes[at] = value;
          return bytes;
        });
      fc.assert(
        fc.property(mutated, (bytes) => {
          exercise(bytes, A, B);
        }),
        { numRuns: 2000 },
      );
    });

    it('readTcpSegment (the data path’s reader, into one reused segment) agrees with checked + parseTcp', () => {
      const into = emptyTcpSegment();
      const timestamps = { value: 0, echo: 0 };
      const mutated = fc
        .tuple(
          fc.constantFrom(...CAPTURED.map(([, bytes]) => bytes)),
          fc.array(fc.tuple(fc.nat(59), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          fc.nat(30),
          fc.boolean(),
        )
        .map(([base, changes, cut, verify]) => {
          const bytes = Uint8Array.from(base.subarray(0, Math.max(0, base.length - cut)));
          for (const [at, value] of changes) if (at < bytes.length) bytes[at] = value;
          return [bytes, verify] as const;
        });
      fc.assert(
        fc.property(mutated, ([bytes, verify]) => {
          const checked = TcpPacket.checked(bytes);
          const parsed = checked.ok ? parseTcp(checked.value, B, A, { verifyChecksum: verify }) : checked;
          const problem = readTcpSegment(bytes, B, A, verify, into, timestamps);
          if (!parsed.ok) {
            expect(problem).toBe(parsed.error.kind);
            return;
          }
          expect(problem).toBeUndefined();
          const expected = { ...emptyTcpSegment(), ...parsed.value };
          expect({ ...into, timestamps: into.timestamps && { ...into.timestamps } }).toEqual(expected);
        }),
        { numRuns: 2000 },
      );
    });

    it('emit then parse gives the repr and payload back', () => {
      const u16 = fc.integer({ min: 0, max: 0xffff });
      const u32 = fc.nat({ max: 0xffffffff });
      const repr = fc.record(
        {
          sourcePort: u16,
          destinationPort: u16,
          sequence: u32,
          acknowledgment: u32,
          flags: fc.integer({ min: 0, max: 255 }),
          window: u16,
          urgentPointer: u16,
          mss: u16,
          windowScale: fc.integer({ min: 0, max: 255 }),
          sackPermitted: fc.constant(true),
          sackBlocks: fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 5 }),
          timestamps: fc.record({ value: u32, echo: u32 }),
        },
        { requiredKeys: ['sourcePort', 'destinationPort', 'sequence', 'acknowledgment', 'flags', 'window'] },
      );
      fc.assert(
        fc.property(repr, fc.uint8Array({ maxLength: 100 }), address, address, (generated, payload, source, destination) => {
          const input: TcpRepr = { ...generated };
          const [buffer, length] = emitted(input, payload, source, destination);
          expect(Array.from(buffer.subarray(length))).toEqual([0xa5, 0xa5, 0xa5, 0xa5]);
          const packet = packetOf(buffer.subarray(0, length));
          expect(packet.headerLength % 4).toBe(0);
          // What comes back: the urgent pointer only with URG, and the SACK blocks that fit.
          const expected: TcpRepr & { payload: Uint8Array } = { ...input, payload };
          if (input.flags & TcpFlag.urg) expected.urgentPointer = input.urgentPointer ?? 0;
          else delete expected.urgentPointer;
          if (input.sackBlocks) {
            const fixed =
              (input.mss !== undefined ? 4 : 0) +
              (input.timestamps ? 12 : input.sackPermitted ? 4 : 0) +
              (input.windowScale !== undefined ? 4 : 0);
            const fit = Math.min(4, Math.floor((40 - fixed - 4) / 8));
            expected.sackBlocks = input.sackBlocks.slice(0, fit);
            expect(fit).toBeGreaterThanOrEqual(2);
          }
          expect(parseTcp(packet, source, destination)).toEqual({ ok: true, value: expected });
          // Emitted at an offset into a larger buffer (as the stack does, into its frame): the same bytes there, nothing before touched.
          const frame = poisoned(34 + length);
          frame.set(payload, 34 + length - payload.length);
          expect(emitTcp(input, frame, payload.length, source, destination, false, 34)).toBe(length);
          expect(Array.from(frame.subarray(0, 34))).toEqual(new Array(34).fill(0xa5));
          expect(Array.from(frame.subarray(34))).toEqual(Array.from(buffer.subarray(0, length)));
        }),
        { numRuns: 1000 },
      );
    });
  });
});
