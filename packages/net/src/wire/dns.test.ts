import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv4Address, ipv4FromNumber } from './address.js';
import { DnsPacket, type DnsRecord, type DnsRecordData, type DnsRepr, DnsTypeValue, dnsLength, emitDns, parseDns } from './dns.js';
import { NetError } from '../errors.js';
import { bytesFromTcpdump as hex, poisoned, unwrap } from '../test/wire-testing.js';

/*
 * Captures: two Linux network namespaces joined by a veth pair, 10.9.1.1/24 and 10.9.1.2/24, checksum
 * offload off; on 10.9.1.1, `dnsmasq -d -C /dev/null --interface=<veth> --bind-interfaces --no-resolv
 * --no-hosts --address=/example.test/10.9.1.7 --host-record=example.test,10.9.1.7
 * --cname=alias.example.test,example.test --txt-record=example.test,"v=uos1"
 * --mx-host=example.test,mail.example.test,10` (dnsmasq 2.90: its CNAME target must be a name it holds a
 * record for, hence --host-record); from 10.9.1.2, `dig @10.9.1.1 alias.example.test A` (BIND 9.18: EDNS
 * with a cookie, the AD bit set), then with `+noedns +noad`, and `dig +noedns +noad` for the MX and TXT
 * of example.test; `tcpdump -i <veth> -w` on the server side, printed with `tcpdump -r -xx`. Whole
 * Ethernet frames.
 */

/** 10.9.1.2.42665 > 10.9.1.1.53: 30188+ [1au] A? alias.example.test. (59) */
const QUERY_EDNS_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  0057 6f0c 0000 4011 f575 0a09 0102 0a09
  0x0020:  0101 a6a9 0035 0043 19ec 75ec 0120 0001
  0x0030:  0000 0000 0001 0561 6c69 6173 0765 7861
  0x0040:  6d70 6c65 0474 6573 7400 0001 0001 0000
  0x0050:  2904 d000 0000 0000 0c00 0a00 08f9 af0a
  0x0060:  e2d1 efdb 0d
`);

/** 10.9.1.1.53 > 10.9.1.2.42665: 30188* 2/0/1 CNAME example.test., A 10.9.1.7 (89) */
const RESPONSE_EDNS_FRAME = hex(`
  0x0000:  32f7 4336 20b9 4a28 899a db51 0800 4500
  0x0010:  0075 fa64 4000 4011 29ff 0a09 0101 0a09
  0x0020:  0102 0035 a6a9 0061 8013 75ec 8580 0001
  0x0030:  0002 0000 0001 0561 6c69 6173 0765 7861
  0x0040:  6d70 6c65 0474 6573 7400 0001 0001 c00c
  0x0050:  0005 0001 0000 0000 000e 0765 7861 6d70
  0x0060:  6c65 0474 6573 7400 c030 0001 0001 0000
  0x0070:  0000 0004 0a09 0107 0000 2904 d000 0000
  0x0080:  0000 00
`);

/** 10.9.1.2.43615 > 10.9.1.1.53: 1330+ A? alias.example.test. (36) */
const QUERY_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  0040 f0c4 0000 4011 73d4 0a09 0102 0a09
  0x0020:  0101 aa5f 0035 002c 2df6 0532 0100 0001
  0x0030:  0000 0000 0000 0561 6c69 6173 0765 7861
  0x0040:  6d70 6c65 0474 6573 7400 0001 0001
`);

/** 10.9.1.1.53 > 10.9.1.2.43615: 1330* 2/0/0 CNAME example.test., A 10.9.1.7 (78) */
const RESPONSE_FRAME = hex(`
  0x0000:  32f7 4336 20b9 4a28 899a db51 0800 4500
  0x0010:  006a fa65 4000 4011 2a09 0a09 0101 0a09
  0x0020:  0102 0035 aa5f 0056 e633 0532 8580 0001
  0x0030:  0002 0000 0000 0561 6c69 6173 0765 7861
  0x0040:  6d70 6c65 0474 6573 7400 0001 0001 c00c
  0x0050:  0005 0001 0000 0000 000e 0765 7861 6d70
  0x0060:  6c65 0474 6573 7400 c030 0001 0001 0000
  0x0070:  0000 0004 0a09 0107
`);

/** 10.9.1.2.47392 > 10.9.1.1.53: 10946+ MX? example.test. (30) */
const MX_QUERY_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  003a aea1 0000 4011 b5fd 0a09 0102 0a09
  0x0020:  0101 b920 0035 0026 cce0 2ac2 0100 0001
  0x0030:  0000 0000 0000 0765 7861 6d70 6c65 0474
  0x0040:  6573 7400 000f 0001
`);

/** 10.9.1.1.53 > 10.9.1.2.47392: 10946* 1/0/0 MX mail.example.test. 10 (63) */
const MX_RESPONSE_FRAME = hex(`
  0x0000:  32f7 4336 20b9 4a28 899a db51 0800 4500
  0x0010:  005b fa69 4000 4011 2a14 0a09 0101 0a09
  0x0020:  0102 0035 b920 0047 31d3 2ac2 8580 0001
  0x0030:  0001 0000 0000 0765 7861 6d70 6c65 0474
  0x0040:  6573 7400 000f 0001 c00c 000f 0001 0000
  0x0050:  0000 0015 000a 046d 6169 6c07 6578 616d
  0x0060:  706c 6504 7465 7374 00
`);

/** 10.9.1.2.57859 > 10.9.1.1.53: 58360+ TXT? example.test. (30) */
const TXT_QUERY_FRAME = hex(`
  0x0000:  4a28 899a db51 32f7 4336 20b9 0800 4500
  0x0010:  003a 4809 0000 4011 1c96 0a09 0102 0a09
  0x0020:  0101 e203 0035 0026 eac5 e3f8 0100 0001
  0x0030:  0000 0000 0000 0765 7861 6d70 6c65 0474
  0x0040:  6573 7400 0010 0001
`);

/** 10.9.1.1.53 > 10.9.1.2.57859: 58360* 1/0/0 TXT "v=uos1" (49) */
const TXT_RESPONSE_FRAME = hex(`
  0x0000:  32f7 4336 20b9 4a28 899a db51 0800 4500
  0x0010:  004d fa6b 4000 4011 2a20 0a09 0101 0a09
  0x0020:  0102 0035 e203 0039 c19a e3f8 8580 0001
  0x0030:  0001 0000 0000 0765 7861 6d70 6c65 0474
  0x0040:  6573 7400 0010 0001 c00c 0010 0001 0000
  0x0050:  0000 0007 0676 3d75 6f73 31
`);

const payload = (frame: Uint8Array) => frame.subarray(14 + 20 + 8);
const QUERY_EDNS = payload(QUERY_EDNS_FRAME);
const RESPONSE_EDNS = payload(RESPONSE_EDNS_FRAME);
const QUERY = payload(QUERY_FRAME);
const RESPONSE = payload(RESPONSE_FRAME);
const MX_QUERY = payload(MX_QUERY_FRAME);
const MX_RESPONSE = payload(MX_RESPONSE_FRAME);
const TXT_QUERY = payload(TXT_QUERY_FRAME);
const TXT_RESPONSE = payload(TXT_RESPONSE_FRAME);

const bytesOf = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const IN = 1;
const OPT = 41;
const ALIAS_QUESTION = { name: 'alias.example.test', type: DnsTypeValue.a, class: IN };
const ALIAS_ANSWERS: DnsRecord[] = [
  { name: 'alias.example.test', type: DnsTypeValue.cname, class: IN, ttl: 0, data: { kind: 'cname', name: 'example.test' } },
  { name: 'example.test', type: DnsTypeValue.a, class: IN, ttl: 0, data: { kind: 'a', address: ipv4Address('10.9.1.7') } },
];
const QUERY_FLAGS = {
  response: false,
  opcode: 0,
  authoritative: false,
  truncated: false,
  recursionDesired: true,
  recursionAvailable: false,
  responseCode: 0,
};
const ANSWER_FLAGS = { ...QUERY_FLAGS, response: true, authoritative: true, recursionAvailable: true };
const NO_RECORDS = { answers: [], authorities: [], additionals: [] };
/** dig's OPT: UDP payload size 1232, no extended flags, a client cookie (option 10, 8 bytes). */
const QUERY_OPT: DnsRecord = {
  name: '',
  type: OPT,
  class: 1232,
  ttl: 0,
  data: { kind: 'unknown', type: OPT, data: Uint8Array.of(0, 10, 0, 8, 0xf9, 0xaf, 0x0a, 0xe2, 0xd1, 0xef, 0xdb, 0x0d) },
};
const RESPONSE_OPT: DnsRecord = { name: '', type: OPT, class: 1232, ttl: 0, data: { kind: 'unknown', type: OPT, data: new Uint8Array(0) } };
const MX_DATA = Uint8Array.of(0, 10, 4, ...bytesOf('mail'), 7, ...bytesOf('example'), 4, ...bytesOf('test'), 0);

/** Each capture and the repr it parses to. */
const CAPTURED: [string, Uint8Array, DnsRepr][] = [
  ['EDNS query', QUERY_EDNS, { id: 30188, ...QUERY_FLAGS, questions: [ALIAS_QUESTION], ...NO_RECORDS, additionals: [QUERY_OPT] }],
  [
    'EDNS response',
    RESPONSE_EDNS,
    { id: 30188, ...ANSWER_FLAGS, questions: [ALIAS_QUESTION], ...NO_RECORDS, answers: ALIAS_ANSWERS, additionals: [RESPONSE_OPT] },
  ],
  ['query', QUERY, { id: 1330, ...QUERY_FLAGS, questions: [ALIAS_QUESTION], ...NO_RECORDS }],
  ['response', RESPONSE, { id: 1330, ...ANSWER_FLAGS, questions: [ALIAS_QUESTION], ...NO_RECORDS, answers: ALIAS_ANSWERS }],
  [
    'MX query',
    MX_QUERY,
    { id: 10946, ...QUERY_FLAGS, questions: [{ name: 'example.test', type: DnsTypeValue.mx, class: IN }], ...NO_RECORDS },
  ],
  [
    'MX response',
    MX_RESPONSE,
    {
      id: 10946,
      ...ANSWER_FLAGS,
      questions: [{ name: 'example.test', type: DnsTypeValue.mx, class: IN }],
      ...NO_RECORDS,
      answers: [
        { name: 'example.test', type: DnsTypeValue.mx, class: IN, ttl: 0, data: { kind: 'unknown', type: DnsTypeValue.mx, data: MX_DATA } },
      ],
    },
  ],
  [
    'TXT query',
    TXT_QUERY,
    { id: 58360, ...QUERY_FLAGS, questions: [{ name: 'example.test', type: DnsTypeValue.txt, class: IN }], ...NO_RECORDS },
  ],
  [
    'TXT response',
    TXT_RESPONSE,
    {
      id: 58360,
      ...ANSWER_FLAGS,
      questions: [{ name: 'example.test', type: DnsTypeValue.txt, class: IN }],
      ...NO_RECORDS,
      answers: [
        {
          name: 'example.test',
          type: DnsTypeValue.txt,
          class: IN,
          ttl: 0,
          data: { kind: 'unknown', type: DnsTypeValue.txt, data: Uint8Array.of(6, ...bytesOf('v=uos1')) },
        },
      ],
    },
  ],
];

function packetOf(bytes: Uint8Array): DnsPacket {
  return unwrap(DnsPacket.checked(bytes));
}

function reprOf(bytes: Uint8Array): DnsRepr {
  return unwrap(parseDns(packetOf(bytes)));
}

function emitted(repr: DnsRepr): Uint8Array {
  const length = dnsLength(repr);
  const buffer = poisoned(length + 4);
  expect(emitDns(repr, buffer)).toBe(length);
  expect(Array.from(buffer.subarray(length))).toEqual([0xa5, 0xa5, 0xa5, 0xa5]); // nothing written past the message
  return buffer.subarray(0, length);
}

/** A message with id 0x1234, RD, these section counts and this body. */
function message(counts: [number, number, number, number], body: number[]): Uint8Array {
  return Uint8Array.from([0x12, 0x34, 0x01, 0x00, 0, counts[0], 0, counts[1], 0, counts[2], 0, counts[3], ...body]);
}

const label = (text: string) => [text.length, ...bytesOf(text)];
const A_IN = [0, 1, 0, 1];
const REPR: DnsRepr = { id: 7, ...QUERY_FLAGS, questions: [], answers: [], authorities: [], additionals: [] };

describe('DNS', () => {
  it('deconstructs a captured response', () => {
    const packet = packetOf(RESPONSE);
    expect(packet.bytes).toBe(RESPONSE);
    expect([packet.id, packet.flags, packet.response, packet.opcode, packet.authoritative, packet.truncated]).toEqual([
      1330,
      0x8580,
      true,
      0,
      true,
      false,
    ]);
    expect([packet.recursionDesired, packet.recursionAvailable, packet.responseCode]).toEqual([true, true, 0]);
    expect([packet.questionCount, packet.answerCount, packet.authorityCount, packet.additionalCount]).toEqual([1, 2, 0, 0]);
    const query = packetOf(QUERY_EDNS);
    expect([query.flags, query.response, query.recursionDesired, query.additionalCount]).toEqual([0x0120, false, true, 1]); // RD and AD
  });

  it.each(CAPTURED)('parses the captured %s to a repr', (_name, bytes, repr) => {
    expect(parseDns(packetOf(bytes))).toEqual({ ok: true, value: repr });
  });

  it.each([
    ['query', QUERY],
    ['MX query', MX_QUERY],
    ['MX response', MX_RESPONSE],
    ['TXT query', TXT_QUERY],
    ['TXT response', TXT_RESPONSE],
  ])('constructs the captured %s byte for byte into a poisoned buffer', (_name, bytes) => {
    expect(Array.from(emitted(reprOf(bytes)))).toEqual(Array.from(bytes));
  });

  it('constructs the EDNS query byte for byte but for the AD bit, which the repr does not carry', () => {
    const expected = Uint8Array.from(QUERY_EDNS);
    expected[3] = expected[3]! & ~0x20;
    expect(Array.from(emitted(reprOf(QUERY_EDNS)))).toEqual(Array.from(expected));
  });

  it('compresses the CNAME target and the A owner against the question, where dnsmasq writes the target out', () => {
    for (const captured of [RESPONSE, RESPONSE_EDNS]) {
      const bytes = emitted(reprOf(captured));
      // The header and question as captured (12 + 24 bytes); then pointers to "example.test" at offset 18.
      const cname = [0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 0, 0, 2, 0xc0, 18];
      const a = [0xc0, 18, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 9, 1, 7];
      expect(Array.from(bytes.subarray(0, 36 + cname.length + a.length))).toEqual([...captured.subarray(0, 36), ...cname, ...a]);
      expect(bytes.length).toBe(captured.length - 12);
      expect(reprOf(bytes)).toEqual(reprOf(captured));
    }
  });

  it('compresses with the longest written suffix, case-sensitively', () => {
    const repr: DnsRepr = {
      ...REPR,
      response: true,
      questions: [{ name: 'www.example.test', type: 1, class: IN }],
      answers: [
        { name: 'www.example.test', type: 5, class: IN, ttl: 60, data: { kind: 'cname', name: 'cdn.Example.test' } },
        { name: 'cdn.Example.test', type: 1, class: IN, ttl: 60, data: { kind: 'a', address: ipv4Address('10.0.0.1') } },
      ],
    };
    const bytes = emitted(repr);
    const question = [...label('www'), ...label('example'), ...label('test'), 0, ...A_IN];
    const cname = [0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 14, ...label('cdn'), ...label('Example'), 0xc0, 12 + 4 + 8];
    const a = [0xc0, 12 + question.length + 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1];
    expect(Array.from(bytes.subarray(12))).toEqual([...question, ...cname, ...a]);
    expect(reprOf(bytes)).toEqual(repr);
  });

  it('writes a name with a trailing dot as without, and the root as one zero byte', () => {
    const dotted = emitted({
      ...REPR,
      questions: [
        { name: 'example.test.', type: 1, class: IN },
        { name: '', type: 2, class: IN },
        { name: '.', type: 2, class: IN },
      ],
    });
    expect(Array.from(dotted.subarray(12))).toEqual([...label('example'), ...label('test'), 0, ...A_IN, 0, 0, 2, 0, 1, 0, 0, 2, 0, 1]);
    expect(reprOf(dotted).questions.map((q) => q.name)).toEqual(['example.test', '', '']);
  });

  it('escapes label bytes that are dots, backslashes or not printable, and reads the escapes back', () => {
    const body = [4, 0x61, 0x2e, 0x62, 0x5c, 3, 0x20, 0x00, 0xff, 3, 0x41, 0x7e, 0x2d, 0, ...A_IN];
    const bytes = message([1, 0, 0, 0], body);
    const name = 'a\\.b\\\\.\\032\\000\\255.A~-';
    expect(reprOf(bytes).questions).toEqual([{ name, type: 1, class: IN }]);
    expect(Array.from(emitted(reprOf(bytes)))).toEqual(Array.from(bytes));
    expect(Array.from(emitted({ ...REPR, questions: [{ name: '\\097\\b.c', type: 1, class: IN }] }).subarray(12, 19))).toEqual([
      2, 0x61, 0x62, 1, 0x63, 0, 0,
    ]);
  });

  it('expands the names in NS, PTR, MX and SOA rdata so it stands alone', () => {
    const owner = [...label('example'), ...label('test'), 0]; // at 12
    const ns = [0xc0, 12, 0, 2, 0, 1, 0, 0, 0, 9, 0, 5, ...label('ns'), 0xc0, 12];
    const ptr = [0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 9, 0, 2, 0xc0, 12];
    const mx = [0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 9, 0, 4, 0, 5, 0xc0, 12];
    const soa = [0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 9, 0, 24, 0xc0, 12, 0xc0, 12, ...Array.from({ length: 20 }, (_, i) => i)];
    const bytes = message([1, 4, 0, 0], [...owner, 0, 6, 0, 1, ...ns, ...ptr, ...mx, ...soa]);
    const wire = [...label('example'), ...label('test'), 0];
    const data = reprOf(bytes).answers.map((record) => record.data);
    expect(data).toEqual([
      { kind: 'unknown', type: 2, data: Uint8Array.from([...label('ns'), ...wire]) },
      { kind: 'unknown', type: 12, data: Uint8Array.from(wire) },
      { kind: 'unknown', type: 15, data: Uint8Array.from([0, 5, ...wire]) },
      { kind: 'unknown', type: 6, data: Uint8Array.from([...wire, ...wire, ...Array.from({ length: 20 }, (_, i) => i)]) },
    ]);
    expect(reprOf(emitted(reprOf(bytes)))).toEqual(reprOf(bytes));
    const shortSoa = message([1, 1, 0, 0], [...owner, 0, 6, 0, 1, 0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 9, 0, 8, 0xc0, 12, 0xc0, 12, 1, 2, 3, 4]);
    expect(parseDns(packetOf(shortSoa))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
  });

  it('takes unknown types and A records of other classes as data', () => {
    const bytes = message([0, 2, 0, 0], [0, 0, 99, 0, 1, 0, 0, 1, 0, 0, 3, 1, 2, 3, 0, 0, 1, 0, 3, 0, 0, 0, 0, 0, 4, 10, 0, 0, 1]);
    expect(reprOf(bytes).answers.map((r) => r.data)).toEqual([
      { kind: 'unknown', type: 99, data: Uint8Array.of(1, 2, 3) },
      { kind: 'unknown', type: 1, data: Uint8Array.of(10, 0, 0, 1) }, // class CHAOS
    ]);
    expect(Array.from(emitted(reprOf(bytes)))).toEqual(Array.from(bytes));
  });

  it('refuses every length under 12 as truncated', () => {
    for (let length = 0; length < 12; length++) {
      expect(DnsPacket.checked(RESPONSE.subarray(0, length))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    }
    expect(parseDns(packetOf(RESPONSE.subarray(0, 12)))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
  });

  it('refuses every cut of a captured message as truncated', () => {
    for (const [, captured] of CAPTURED) {
      for (let length = 12; length < captured.length; length++) {
        expect(parseDns(packetOf(captured.subarray(0, length)))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
      }
    }
  });

  it('refuses a record whose rdata runs past the end as truncated', () => {
    const bytes = Uint8Array.from(RESPONSE);
    bytes[bytes.length - 5] = 5; // the A record's rdlength
    expect(parseDns(packetOf(bytes))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    const more = message([0, 1, 0, 0], [0, 0, 16, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3]);
    expect(parseDns(packetOf(more))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
  });

  it('refuses rdata of the wrong shape as malformed', () => {
    const shortA = Uint8Array.from(RESPONSE);
    shortA[shortA.length - 5] = 3;
    expect(parseDns(packetOf(shortA))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    const cnameWithTail = message([0, 1, 0, 0], [0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 4, 1, 0x61, 0, 0xee]);
    expect(parseDns(packetOf(cnameWithTail))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    const cnamePastRdata = message([0, 1, 0, 0], [0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 2, 3, 0x61, 0x62, 0x63, 0]);
    expect(parseDns(packetOf(cnamePastRdata))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
  });

  it.each([
    ['a pointer to itself', 'point back', 1, [0xc0, 12, ...A_IN]],
    ['a two-pointer loop', 'point back', 2, [1, 0x61, 0xc0, 20, ...A_IN, 0xc0, 12, ...A_IN]],
    ['a forward pointer to a good name', 'point back', 2, [0xc0, 18, ...A_IN, 1, 0x61, 0, ...A_IN]],
    ['a pointer past the end', 'point back', 1, [0xc0, 0xff, ...A_IN]],
    ['the largest pointer', 'point back', 1, [0xff, 0xff, ...A_IN]],
    ['a label of 64 bytes', 'label type', 1, [64, ...new Array<number>(64).fill(0x61), 0, ...A_IN]],
    ['a label of type 0x80', 'label type', 1, [0x81, 0x61, 0, ...A_IN]],
    ['a name of 257 bytes', 'over 255', 1, [...[1, 2, 3, 4].flatMap(() => [63, ...new Array<number>(63).fill(0x61)]), 0, ...A_IN]],
    ['a name of 256 bytes', 'over 255', 1, [...[63, 63, 63, 62].flatMap((n) => [n, ...new Array<number>(n).fill(0x61)]), 0, ...A_IN]],
    [
      'a name over 255 bytes through a pointer',
      'over 255',
      2,
      [
        ...[1, 2, 3].flatMap(() => [63, ...new Array<number>(63).fill(0x61)]),
        0,
        ...A_IN,
        63,
        ...new Array<number>(63).fill(0x62),
        0xc0,
        12,
        ...A_IN,
      ],
    ],
  ] as [string, string, number, number[]][])('refuses %s as malformed', (_name, reason, questions, body) => {
    const result = parseDns(packetOf(message([questions, 0, 0, 0], body)));
    expect(result).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    expect(!result.ok && result.error.detail).toContain(reason);
  });

  it('reads a name of exactly 255 bytes', () => {
    const labels = [63, 63, 63, 61].map((n, i) => [n, ...new Array<number>(n).fill(0x61 + i)]);
    const bytes = message([1, 0, 0, 0], [...labels.flat(), 0, ...A_IN]);
    const name = reprOf(bytes).questions[0]!.name;
    expect(name).toBe(['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.'));
    expect(Array.from(emitted(reprOf(bytes)))).toEqual(Array.from(bytes));
  });

  it('follows at most 128 pointers for one name', () => {
    /** A record holding a root name and a chain of pointers, each to the one before; then a record named by the last. */
    const chain = (pointers: number) => {
      const start = 12 + 1 + 10; // the rdata, after the first record's root owner and fixed fields
      const rdata = [0];
      for (let i = 0; i < pointers; i++) {
        const target = i === 0 ? start : start + 1 + 2 * (i - 1);
        rdata.push(0xc0 | (target >> 8), target & 0xff);
      }
      const last = start + 1 + 2 * (pointers - 1);
      return message(
        [0, 2, 0, 0],
        [
          0,
          0,
          99,
          0,
          1,
          0,
          0,
          0,
          0,
          rdata.length >> 8,
          rdata.length & 0xff,
          ...rdata,
          0xc0 | (last >> 8),
          last & 0xff,
          0,
          99,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          0,
        ],
      );
    };
    expect(reprOf(chain(127)).answers[1]!.name).toBe(''); // 128 hops
    expect(parseDns(packetOf(chain(128)))).toMatchObject({
      ok: false,
      error: { kind: 'malformed', detail: expect.stringContaining('over 128 pointers') },
    });
  });

  it.each([
    ['a label of 64 bytes', 'a'.repeat(64)],
    ['a name of 257 bytes', ['a', 'b', 'c', 'd'].map((c) => c.repeat(63)).join('.')],
    ['a name of 256 bytes', `${['a', 'b', 'c'].map((c) => c.repeat(63)).join('.')}.${'d'.repeat(62)}`],
    ['an empty label', 'a..b'],
    ['a leading dot', '.a'],
    ['a dangling backslash', 'a\\'],
    ['an escape past 255', '\\256'],
    ['a character past Latin-1', 'ü\u0100'],
  ])('throws a NetError for %s (our own data)', (_name, name) => {
    const repr = { ...REPR, questions: [{ name, type: 1, class: IN }] };
    expect(() => dnsLength(repr)).toThrow(NetError);
    expect(() => emitDns(repr, new Uint8Array(600))).toThrow(NetError);
    const record = { ...REPR, answers: [{ name: 'ok', type: 5, class: IN, ttl: 0, data: { kind: 'cname' as const, name } }] };
    expect(() => dnsLength(record)).toThrow(NetError);
  });

  describe('properties', () => {
    const exercise = (bytes: Uint8Array) => {
      const result = DnsPacket.checked(bytes);
      if (!result.ok) return;
      const p = result.value;
      void [p.id, p.flags, p.response, p.opcode, p.authoritative, p.truncated, p.recursionDesired, p.recursionAvailable, p.responseCode];
      void [p.questionCount, p.answerCount, p.authorityCount, p.additionalCount];
      const parsed = parseDns(p);
      if (parsed.ok) expect(reprOf(emitted(parsed.value))).toEqual(parsed.value); // what parses re-emits and parses the same
    };

    it('never throws on random bytes', () => {
      const header = fc.tuple(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
      );
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 120 }),
        // Small counts, so that the sections get read.
        fc
          .tuple(header, fc.uint8Array({ maxLength: 120 }))
          .map(([[flags, counts], body]) =>
            message(counts as [number, number, number, number], Array.from(body)).map((b, i) => (i < 4 ? flags[i]! : b)),
          ),
        // Names made of labels and pointers.
        fc
          .array(fc.oneof(fc.constantFrom(0, 1, 0x61, 0xc0, 12, 5, 63, 64), fc.integer({ min: 0, max: 255 })), { maxLength: 120 })
          .map((body) => message([2, 2, 0, 0], body)),
      );
      fc.assert(
        fc.property(bytes, (b) => {
          exercise(b);
        }),
        { numRuns: 3000 },
      );
    });

    it('never throws on mutated captured messages', () => {
      const mutated = fc
        .tuple(
          fc.constantFrom(...CAPTURED.map(([, bytes]) => bytes)),
          fc.array(fc.tuple(fc.nat(88), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
          fc.nat(30),
        )
        .map(([base, changes, cut]) => {
          const bytes = Uint8Array.from(base.subarray(0, Math.max(0, base.length - cut)));
          for (const [at, value] of changes) if (at < bytes.length) bytes[at] = value;
          return bytes;
        });
      fc.assert(
        fc.property(mutated, (bytes) => {
          exercise(bytes);
        }),
        { numRuns: 3000 },
      );
    });

    it('emit then parse gives the repr back', () => {
      /** The presentation of a label, escaped as parseDns does. */
      const present = (bytes: Uint8Array) =>
        Array.from(bytes, (b) =>
          b === 0x2e || b === 0x5c
            ? `\\${String.fromCharCode(b)}`
            : b <= 0x20 || b >= 0x7f
              ? `\\${String(b).padStart(3, '0')}`
              : String.fromCharCode(b),
        ).join('');
      const labelBytes = fc.oneof(
        fc.constantFrom('www', 'example', 'Example', 'test', 'a').map(bytesOf),
        fc.uint8Array({ minLength: 1, maxLength: 63 }),
      );
      const name = fc
        .array(labelBytes, { maxLength: 5 })
        .filter((labels) => labels.reduce((n, l) => n + 1 + l.length, 1) <= 255)
        .map((labels) => labels.map(present).join('.'));
      const u16 = fc.integer({ min: 0, max: 0xffff });
      const u32 = fc.nat({ max: 0xffffffff });
      const record = fc.oneof(
        fc
          .record({ name, ttl: u32, address: u32.map(ipv4FromNumber) })
          .map(({ name, ttl, address }): DnsRecord => ({ name, type: 1, class: IN, ttl, data: { kind: 'a', address } })),
        fc
          .record({ name, cls: u16, ttl: u32, target: name })
          .map(({ name, cls, ttl, target }): DnsRecord => ({ name, type: 5, class: cls, ttl, data: { kind: 'cname', name: target } })),
        fc
          .record({
            name,
            type: u16.filter((t) => ![1, 2, 5, 6, 12, 15].includes(t)),
            cls: u16,
            ttl: u32,
            data: fc.uint8Array({ maxLength: 40 }),
          })
          .map(
            ({ name, type, cls, ttl, data }): DnsRecord => ({
              name,
              type,
              class: cls,
              ttl,
              data: { kind: 'unknown', type, data } as DnsRecordData,
            }),
          ),
      );
      const repr = fc.record({
        id: u16,
        response: fc.boolean(),
        opcode: fc.integer({ min: 0, max: 15 }),
        authoritative: fc.boolean(),
        truncated: fc.boolean(),
        recursionDesired: fc.boolean(),
        recursionAvailable: fc.boolean(),
        responseCode: fc.integer({ min: 0, max: 15 }),
        questions: fc.array(
          fc.record({ name, type: u16, class: u16 }).map((q) => ({ ...q })),
          { maxLength: 3 },
        ),
        answers: fc.array(record, { maxLength: 4 }),
        authorities: fc.array(record, { maxLength: 2 }),
        additionals: fc.array(record, { maxLength: 2 }),
      });
      fc.assert(
        fc.property(repr, (generated) => {
          const input: DnsRepr = { ...generated };
          expect(reprOf(emitted(input))).toEqual(input);
        }),
        { numRuns: 1000 },
      );
    });
  });
});
