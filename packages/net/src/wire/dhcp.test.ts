import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IPV4_ANY, ipv4Address, parseMac } from './address.js';
import { DhcpPacket, type DhcpRepr, dhcpLength, emitDhcp, isKnownDhcpOption, parseDhcp } from './dhcp.js';
import { NetError } from '../errors.js';
import { bytesFromTcpdump as hex, poisoned, unwrap } from '../test/wire-testing.js';

/*
 * Captures: two Linux network namespaces joined by a veth pair, 10.9.1.1/24 and 10.9.1.2/24, checksum
 * offload off; on 10.9.1.1, `dnsmasq -d -C /dev/null --interface=<veth> --bind-interfaces
 * --dhcp-range=10.9.1.50,10.9.1.60,12h --domain=example.test` (dnsmasq 2.90); on the other side, Debian's
 * `udhcpc -i <veth> -f -q -n -s /bin/true -x hostname:uos-test` (BusyBox 1.35.0); `tcpdump -i <veth> -w`
 * on the server side, printed with `tcpdump -r -xx`. Whole Ethernet frames. The client retransmitted
 * its DISCOVER once (secs 0, then 3); these are the first DISCOVER and the exchange that followed the
 * second one.
 */

/** DHCPDISCOVER from udhcpc (hostname uos-test): 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from 32:f7:43:36:20:b9, length 300 */
const DISCOVER_FRAME = hex(`
  0x0000:  ffff ffff ffff 32f7 4336 20b9 0800 4500
  0x0010:  0148 0000 0000 4011 79a6 0000 0000 ffff
  0x0020:  ffff 0044 0043 0134 9a48 0101 0600 8f60
  0x0030:  b531 0000 0000 0000 0000 0000 0000 0000
  0x0040:  0000 0000 0000 32f7 4336 20b9 0000 0000
  0x0050:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0060:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0070:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0080:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0090:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00a0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00b0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00c0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00d0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00e0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00f0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0100:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0110:  0000 0000 0000 6382 5363 3501 0139 0202
  0x0120:  4037 0701 0306 0c0f 1c2a 0c08 756f 732d
  0x0130:  7465 7374 3c0c 7564 6863 7020 312e 3335
  0x0140:  2e30 3d07 0132 f743 3620 b9ff 0000 0000
  0x0150:  0000 0000 0000
`);

/** DHCPOFFER from dnsmasq: 10.9.1.1.67 > 10.9.1.50.68: BOOTP/DHCP, Reply, length 306 */
const OFFER_FRAME = hex(`
  0x0000:  32f7 4336 20b9 4a28 899a db51 0800 45c0
  0x0010:  014e 2ab6 0000 4011 37e5 0a09 0101 0a09
  0x0020:  0132 0043 0044 013a 85b2 0201 0600 8f60
  0x0030:  b531 0003 0000 0000 0000 0a09 0132 0a09
  0x0040:  0101 0000 0000 32f7 4336 20b9 0000 0000
  0x0050:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0060:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0070:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0080:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0090:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00a0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00b0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00c0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00d0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00e0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00f0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0100:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0110:  0000 0000 0000 6382 5363 3501 0236 040a
  0x0120:  0901 0133 0400 00a8 c03a 0400 0054 603b
  0x0130:  0400 0093 a801 04ff ffff 001c 040a 0901
  0x0140:  ff03 040a 0901 0106 040a 0901 010f 0c65
  0x0150:  7861 6d70 6c65 2e74 6573 74ff
`);

/** DHCPREQUEST from udhcpc: 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from 32:f7:43:36:20:b9, length 302 */
const REQUEST_FRAME = hex(`
  0x0000:  ffff ffff ffff 32f7 4336 20b9 0800 4500
  0x0010:  014a 0000 0000 4011 79a4 0000 0000 ffff
  0x0020:  ffff 0044 0043 0136 4ac3 0101 0600 8f60
  0x0030:  b531 0003 0000 0000 0000 0000 0000 0000
  0x0040:  0000 0000 0000 32f7 4336 20b9 0000 0000
  0x0050:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0060:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0070:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0080:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0090:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00a0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00b0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00c0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00d0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00e0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00f0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0100:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0110:  0000 0000 0000 6382 5363 3501 0332 040a
  0x0120:  0901 3236 040a 0901 0139 0202 4037 0701
  0x0130:  0306 0c0f 1c2a 0c08 756f 732d 7465 7374
  0x0140:  3c0c 7564 6863 7020 312e 3335 2e30 3d07
  0x0150:  0132 f743 3620 b9ff
`);

/** DHCPACK from dnsmasq: 10.9.1.1.67 > 10.9.1.50.68: BOOTP/DHCP, Reply, length 316 */
const ACK_FRAME = hex(`
  0x0000:  32f7 4336 20b9 4a28 899a db51 0800 45c0
  0x0010:  0158 2abc 0000 4011 37d5 0a09 0101 0a09
  0x0020:  0132 0043 0044 0144 03c2 0201 0600 8f60
  0x0030:  b531 0003 0000 0000 0000 0a09 0132 0a09
  0x0040:  0101 0000 0000 32f7 4336 20b9 0000 0000
  0x0050:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0060:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0070:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0080:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0090:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00a0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00b0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00c0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00d0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00e0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x00f0:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0100:  0000 0000 0000 0000 0000 0000 0000 0000
  0x0110:  0000 0000 0000 6382 5363 3501 0536 040a
  0x0120:  0901 0133 0400 00a8 c03a 0400 0054 603b
  0x0130:  0400 0093 a801 04ff ffff 001c 040a 0901
  0x0140:  ff03 040a 0901 0106 040a 0901 010f 0c65
  0x0150:  7861 6d70 6c65 2e74 6573 740c 0875 6f73
  0x0160:  2d74 6573 74ff
`);

const message = (frame: Uint8Array) => frame.subarray(14 + 20 + 8);
const DISCOVER = message(DISCOVER_FRAME);
const OFFER = message(OFFER_FRAME);
const REQUEST = message(REQUEST_FRAME);
const ACK = message(ACK_FRAME);

const bytesOf = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const CLIENT = parseMac('32:f7:43:36:20:b9')!;
const SERVER = ipv4Address('10.9.1.1');
const LEASED = ipv4Address('10.9.1.50');
const XID = 0x8f60b531;
const VENDOR_CLASS = { code: 60, data: bytesOf('udhcp 1.35.0') };
const CLIENT_ID = Uint8Array.of(1, 0x32, 0xf7, 0x43, 0x36, 0x20, 0xb9);
const PARAMETERS = [1, 3, 6, 12, 15, 28, 42];

const DISCOVER_REPR: DhcpRepr = {
  operation: 'request',
  transactionId: XID,
  seconds: 0,
  broadcast: false,
  clientAddress: IPV4_ANY,
  yourAddress: IPV4_ANY,
  serverAddress: IPV4_ANY,
  relayAddress: IPV4_ANY,
  clientHardware: CLIENT,
  messageType: { kind: 'discover' },
  maxMessageSize: 576,
  parameterRequestList: PARAMETERS,
  hostname: 'uos-test',
  clientIdentifier: CLIENT_ID,
  unknownOptions: [VENDOR_CLASS],
};
const OFFER_REPR: DhcpRepr = {
  operation: 'reply',
  transactionId: XID,
  seconds: 3,
  broadcast: false,
  clientAddress: IPV4_ANY,
  yourAddress: LEASED,
  serverAddress: SERVER,
  relayAddress: IPV4_ANY,
  clientHardware: CLIENT,
  messageType: { kind: 'offer' },
  serverIdentifier: SERVER,
  leaseSeconds: 43200,
  renewalSeconds: 21600,
  rebindingSeconds: 37800,
  subnetMask: ipv4Address('255.255.255.0'),
  routers: [SERVER],
  dnsServers: [SERVER],
  domainName: 'example.test',
  unknownOptions: [{ code: 28, data: Uint8Array.of(10, 9, 1, 255) }], // broadcast address
};
const REQUEST_REPR: DhcpRepr = {
  ...DISCOVER_REPR,
  seconds: 3,
  messageType: { kind: 'request' },
  requestedAddress: LEASED,
  serverIdentifier: SERVER,
};
const ACK_REPR: DhcpRepr = { ...OFFER_REPR, messageType: { kind: 'ack' }, hostname: 'uos-test' };

/** Each capture, the repr it parses to and the codes that repr keeps as unknown options. */
const CAPTURED: [string, Uint8Array, DhcpRepr, number[]][] = [
  ['DISCOVER', DISCOVER, DISCOVER_REPR, [60]],
  ['OFFER', OFFER, OFFER_REPR, [28]],
  ['REQUEST', REQUEST, REQUEST_REPR, [60]],
  ['ACK', ACK, ACK_REPR, [28]],
];

function packetOf(bytes: Uint8Array): DhcpPacket {
  return unwrap(DhcpPacket.checked(bytes));
}

function reprOf(bytes: Uint8Array): DhcpRepr {
  return unwrap(parseDhcp(packetOf(bytes)));
}

/** A copy of a captured message with its options replaced (the length kept, at least). */
function withOptions(base: Uint8Array, options: number[]): Uint8Array {
  const bytes = new Uint8Array(Math.max(base.length, 240 + options.length));
  bytes.set(base.subarray(0, 240));
  bytes.set(options, 240);
  return bytes;
}

/** The options of a captured message as [code, bytes of the whole option] up to the end option. */
function optionsIn(bytes: Uint8Array): [number, number[]][] {
  const options: [number, number[]][] = [];
  for (let at = 240; bytes[at] !== 255; at += 2 + bytes[at + 1]!)
    options.push([bytes[at]!, Array.from(bytes.subarray(at, at + 2 + bytes[at + 1]!))]);
  return options;
}

/** The captured message with the unknown options moved after the known ones, where emitDhcp writes them. */
function unknownOptionsLast(bytes: Uint8Array, unknown: number[]): Uint8Array {
  const options = optionsIn(bytes);
  const reordered = [...options.filter(([code]) => !unknown.includes(code)), ...options.filter(([code]) => unknown.includes(code))];
  return withOptions(bytes, [...reordered.flatMap(([, option]) => option), 255]);
}

describe('DHCP', () => {
  it('deconstructs a captured DISCOVER and ACK', () => {
    const discover = packetOf(DISCOVER);
    expect(discover.bytes).toBe(DISCOVER);
    expect([discover.operation, discover.hardwareType, discover.hardwareLength, discover.hops]).toEqual([1, 1, 6, 0]);
    expect([discover.transactionId, discover.seconds, discover.flags, discover.broadcast]).toEqual([XID, 0, 0, false]);
    expect([discover.clientAddress, discover.yourAddress, discover.serverAddress, discover.relayAddress]).toEqual([0, 0, 0, 0]);
    expect(discover.clientHardware).toBe(CLIENT);
    expect(Array.from(discover.options.subarray(0, 3))).toEqual([53, 1, 1]);
    const ack = packetOf(ACK);
    expect([ack.operation, ack.seconds, ack.yourAddress, ack.serverAddress]).toEqual([2, 3, LEASED, SERVER]);
    expect(ack.options.length).toBe(ACK.length - 240);
  });

  it.each(CAPTURED)('parses the captured %s to a repr', (_name, bytes, repr) => {
    expect(parseDhcp(packetOf(bytes))).toEqual({ ok: true, value: repr });
  });

  it.each(CAPTURED)(
    'constructs the captured %s byte for byte into a poisoned buffer, unknown options last',
    (_name, bytes, repr, unknown) => {
      expect(dhcpLength(repr)).toBe(bytes.length);
      const buffer = poisoned(bytes.length + 4);
      expect(emitDhcp(repr, buffer)).toBe(bytes.length);
      expect(Array.from(buffer.subarray(0, 240))).toEqual(Array.from(bytes.subarray(0, 240))); // the BOOTP fields and the cookie as captured
      expect(Array.from(buffer.subarray(0, bytes.length))).toEqual(Array.from(unknownOptionsLast(bytes, unknown)));
      expect(Array.from(buffer.subarray(bytes.length))).toEqual([0xa5, 0xa5, 0xa5, 0xa5]); // nothing written past the message
    },
  );

  it('orders the known options as both dnsmasq and udhcpc do', () => {
    for (const [, bytes, , unknown] of CAPTURED) {
      const known = optionsIn(bytes)
        .map(([code]) => code)
        .filter((code) => !unknown.includes(code));
      const buffer = new Uint8Array(400);
      emitDhcp(reprOf(bytes), buffer);
      expect(optionsIn(buffer).map(([code]) => code)).toEqual([...known, ...unknown]);
    }
  });

  it('pads to the BOOTP minimum of 300 bytes with zeros', () => {
    const repr: DhcpRepr = { ...DISCOVER_REPR, unknownOptions: undefined, parameterRequestList: undefined, hostname: undefined };
    delete repr.unknownOptions;
    expect(dhcpLength(repr)).toBe(300);
    const buffer = poisoned(304);
    expect(emitDhcp(repr, buffer)).toBe(300);
    const end = 240 + 3 + 4 + 9; // message type, max message size, client identifier
    expect(buffer[end]).toBe(255);
    expect(buffer.subarray(end + 1, 300).every((b) => b === 0)).toBe(true);
    expect(buffer[300]).toBe(0xa5);
    expect(reprOf(buffer.subarray(0, 300))).toEqual(repr);
  });

  it('round-trips a repr with every field, splitting values over 255 bytes', () => {
    const routers = Array.from({ length: 70 }, (_, i) => ipv4Address(`10.0.${i}.1`)); // 280 bytes: two options
    const repr: DhcpRepr = {
      operation: 'reply',
      transactionId: 0xffffffff,
      seconds: 0xffff,
      broadcast: true,
      clientAddress: ipv4Address('10.0.0.9'),
      yourAddress: ipv4Address('10.0.0.10'),
      serverAddress: ipv4Address('10.0.0.11'),
      relayAddress: ipv4Address('10.0.0.12'),
      clientHardware: 0xffffffffffff,
      messageType: { kind: 'nak' },
      subnetMask: ipv4Address('255.255.0.0'),
      routers,
      dnsServers: [ipv4Address('9.9.9.9'), ipv4Address('1.1.1.1')],
      hostname: 'h'.repeat(300),
      domainName: 'corp.example',
      requestedAddress: ipv4Address('10.0.0.10'),
      leaseSeconds: 0xffffffff,
      renewalSeconds: 1,
      rebindingSeconds: 2,
      serverIdentifier: ipv4Address('10.0.0.11'),
      parameterRequestList: [1, 3, 6, 255, 0],
      clientIdentifier: Uint8Array.of(0xff, 1, 2),
      maxMessageSize: 1500,
      message: 'no such address',
      unknownOptions: [
        { code: 43, data: Uint8Array.of(1, 2, 3) },
        { code: 200, data: new Uint8Array(0) },
      ],
    };
    const length = dhcpLength(repr);
    const buffer = poisoned(length + 1);
    expect(emitDhcp(repr, buffer)).toBe(length);
    expect(buffer[length]).toBe(0xa5);
    expect([buffer[10], buffer[11]]).toEqual([0x80, 0]); // the broadcast flag
    const routerOptions = optionsIn(buffer)
      .filter(([code]) => code === 3)
      .map(([, option]) => option[1]);
    expect(routerOptions).toEqual([255, 25]);
    expect(reprOf(buffer.subarray(0, length))).toEqual(repr);
  });

  it('takes unknown message types and options as data', () => {
    const bytes = Uint8Array.from(ACK);
    bytes[242] = 42;
    const repr = reprOf(bytes);
    expect(repr.messageType).toEqual({ kind: 'unknown', value: 42 });
    expect(repr.unknownOptions).toEqual([{ code: 28, data: Uint8Array.of(10, 9, 1, 255) }]);
    const buffer = new Uint8Array(dhcpLength(repr));
    emitDhcp(repr, buffer);
    expect(buffer[242]).toBe(42);
  });

  it('skips pad options and ignores what follows the end option', () => {
    const bytes = withOptions(DISCOVER, [0, 0, 53, 1, 3, 0, 50, 4, 10, 9, 1, 50, 255, 53, 1, 7, 1, 3]);
    expect(reprOf(bytes)).toMatchObject({ messageType: { kind: 'request' }, requestedAddress: LEASED });
    expect(reprOf(bytes).unknownOptions).toBeUndefined();
  });

  it('concatenates a repeated option (RFC 3396)', () => {
    const bytes = withOptions(DISCOVER, [53, 1, 1, 12, 3, 117, 111, 115, 6, 4, 1, 1, 1, 1, 12, 2, 45, 49, 6, 4, 8, 8, 8, 8, 255]);
    expect(reprOf(bytes)).toMatchObject({ hostname: 'uos-1', dnsServers: [ipv4Address('1.1.1.1'), ipv4Address('8.8.8.8')] });
  });

  it('reads options from file and sname when option 52 says so', () => {
    const bytes = withOptions(DISCOVER, [53, 1, 2, 52, 1, 3, 12, 1, 120, 255]);
    bytes.set([1, 4, 255, 255, 255, 0, 12, 2, 121, 122, 255], 108); // file
    bytes.set([3, 4, 10, 9, 1, 1, 255], 44); // sname
    expect(reprOf(bytes)).toMatchObject({ subnetMask: ipv4Address('255.255.255.0'), routers: [SERVER], hostname: 'xyz' });
    bytes[245] = 1; // file only
    expect(reprOf(bytes)).toMatchObject({ subnetMask: ipv4Address('255.255.255.0'), hostname: 'xyz' });
    expect(reprOf(bytes).routers).toBeUndefined();
    bytes[245] = 4;
    expect(parseDhcp(packetOf(bytes))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    bytes.set([0, 0, 0], 243); // no overload: sname and file are a name and a path
    expect(reprOf(bytes)).toEqual({ ...reprOf(withOptions(DISCOVER, [53, 1, 2])), hostname: 'x' });
  });

  it('strips the trailing NULs some clients put after text', () => {
    const bytes = withOptions(DISCOVER, [53, 1, 1, 12, 4, 117, 111, 115, 0, 255]);
    expect(reprOf(bytes).hostname).toBe('uos');
  });

  it('refuses every length under 240 as truncated', () => {
    for (let length = 0; length < 240; length++) {
      expect(DhcpPacket.checked(DISCOVER.subarray(0, length))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    }
    expect(DhcpPacket.checked(DISCOVER.subarray(0, 240)).ok).toBe(true);
  });

  it('refuses a bad magic cookie as malformed', () => {
    for (let at = 236; at < 240; at++) {
      const bytes = Uint8Array.from(OFFER);
      bytes[at] = bytes[at]! ^ 0x01;
      expect(DhcpPacket.checked(bytes)).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    }
  });

  it('refuses an operation other than request or reply as malformed, and other hardware as unsupported', () => {
    const changed = (at: number, value: number) => {
      const b = Uint8Array.from(OFFER);
      b[at] = value;
      return packetOf(b);
    };
    expect(parseDhcp(changed(0, 0))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    expect(parseDhcp(changed(0, 3))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    expect(parseDhcp(changed(1, 6))).toMatchObject({ ok: false, error: { kind: 'unsupported' } }); // IEEE 802
    expect(parseDhcp(changed(2, 16))).toMatchObject({ ok: false, error: { kind: 'unsupported' } });
  });

  it('refuses an option running past the end as malformed', () => {
    const boundaries = new Set<number>();
    let at = 240;
    for (; ACK[at] !== 255; at += 2 + ACK[at + 1]!) boundaries.add(at);
    boundaries.add(at); // cut just before the end option
    for (let length = 243; length < ACK.length; length++) {
      const result = parseDhcp(packetOf(ACK.subarray(0, length)));
      if (boundaries.has(length))
        expect(result.ok).toBe(true); // no end option: the options stop with the message
      else expect(result).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    }
    expect(parseDhcp(packetOf(ACK.subarray(0, 300)))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
  });

  it.each([
    ['no message type', [0, 0, 0, 54, 4, 10, 9, 1, 1, 255]],
    ['no options at all', [255]],
    ['a message type of length 2', [53, 2, 1, 1, 255]],
    ['a message type of length 0', [53, 0, 255]],
    ['a subnet mask of length 3', [53, 1, 2, 1, 3, 255, 255, 255, 255]],
    ['six bytes of routers', [53, 1, 2, 3, 6, 10, 9, 1, 1, 10, 9, 255]],
    ['no DNS servers', [53, 1, 2, 6, 0, 255]],
    ['a lease time of length 2', [53, 1, 2, 51, 2, 1, 1, 255]],
    ['an empty host name', [53, 1, 2, 12, 0, 255]],
    ['a max message size of length 4', [53, 1, 1, 57, 4, 0, 0, 2, 64, 255]],
    ['an option without its length', [53, 1, 1, 61]],
  ])('refuses %s as malformed', (_name, options) => {
    const bytes = withOptions(OFFER, options);
    bytes.fill(0, 240 + options.length);
    expect(parseDhcp(packetOf(bytes.subarray(0, Math.max(240 + options.length, 240))))).toMatchObject({
      ok: false,
      error: { kind: 'malformed' },
    });
  });

  it('throws a NetError for text past Latin-1 (our own data)', () => {
    expect(() => dhcpLength({ ...DISCOVER_REPR, hostname: 'ünï\u0100' })).toThrow(NetError);
    expect(() => emitDhcp({ ...DISCOVER_REPR, message: '\u{1f600}' }, new Uint8Array(400))).toThrow(NetError);
  });

  describe('properties', () => {
    const exercise = (bytes: Uint8Array) => {
      const result = DhcpPacket.checked(bytes);
      if (!result.ok) return;
      const p = result.value;
      void [p.operation, p.hardwareType, p.hardwareLength, p.hops, p.transactionId, p.seconds, p.flags, p.broadcast];
      void [p.clientAddress, p.yourAddress, p.serverAddress, p.relayAddress, p.clientHardware, p.options];
      const parsed = parseDhcp(p);
      if (parsed.ok) {
        // What parses re-emits and parses the same.
        const buffer = new Uint8Array(dhcpLength(parsed.value));
        emitDhcp(parsed.value, buffer);
        expect(reprOf(buffer)).toEqual(parsed.value);
      }
    };

    it('never throws on random bytes, with and without the magic cookie', () => {
      const message = fc
        .tuple(fc.uint8Array({ maxLength: 320 }), fc.boolean(), fc.uint8Array({ maxLength: 60 }))
        .map(([bytes, magic, options]) => {
          if (!magic || bytes.length < 240) return bytes;
          const b = Uint8Array.from(bytes);
          b.set([0x63, 0x82, 0x53, 0x63], 236);
          b[0] = 1 + (b[0]! & 1);
          b[1] = 1;
          b[2] = 6;
          const withRandomOptions = new Uint8Array(240 + options.length);
          withRandomOptions.set(b.subarray(0, 240));
          withRandomOptions.set(options, 240);
          return b[3]! & 1 ? b : withRandomOptions;
        });
      fc.assert(
        fc.property(message, (bytes) => {
          exercise(bytes);
        }),
        { numRuns: 2000 },
      );
    });

    it('never throws on mutated captured messages', () => {
      const mutated = fc
        .tuple(
          fc.constantFrom(...CAPTURED.map(([, bytes]) => bytes)),
          fc.array(fc.tuple(fc.integer({ min: 230, max: 315 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
          fc.nat(90),
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
        { numRuns: 2000 },
      );
    });

    it('emit then parse gives the repr back', () => {
      const u32 = fc.nat({ max: 0xffffffff });
      const text = fc
        .array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 300 })
        .map((codes) => String.fromCharCode(...codes));
      const addresses = fc.array(u32, { minLength: 1, maxLength: 70 });
      const messageType = fc.oneof(
        fc.constantFrom('discover', 'offer', 'request', 'decline', 'ack', 'nak', 'release', 'inform').map((kind) => ({ kind })),
        fc.oneof(fc.constant(0), fc.integer({ min: 9, max: 255 })).map((value) => ({ kind: 'unknown' as const, value })),
      );
      const unknownCode = fc.integer({ min: 1, max: 254 }).filter((code) => !isKnownDhcpOption(code));
      const repr = fc.record(
        {
          operation: fc.constantFrom('request' as const, 'reply' as const),
          transactionId: u32,
          seconds: fc.integer({ min: 0, max: 0xffff }),
          broadcast: fc.boolean(),
          clientAddress: u32,
          yourAddress: u32,
          serverAddress: u32,
          relayAddress: u32,
          clientHardware: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
          messageType,
          subnetMask: u32,
          routers: addresses,
          dnsServers: addresses,
          hostname: text,
          domainName: text,
          requestedAddress: u32,
          leaseSeconds: u32,
          renewalSeconds: u32,
          rebindingSeconds: u32,
          serverIdentifier: u32,
          parameterRequestList: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 300 }),
          clientIdentifier: fc.uint8Array({ minLength: 1, maxLength: 300 }),
          maxMessageSize: fc.integer({ min: 0, max: 0xffff }),
          message: text,
          unknownOptions: fc.uniqueArray(fc.record({ code: unknownCode, data: fc.uint8Array({ maxLength: 300 }) }), {
            minLength: 1,
            maxLength: 4,
            selector: (o) => o.code,
          }),
        },
        {
          requiredKeys: [
            'operation',
            'transactionId',
            'seconds',
            'broadcast',
            'clientAddress',
            'yourAddress',
            'serverAddress',
            'relayAddress',
            'clientHardware',
            'messageType',
          ],
        },
      );
      fc.assert(
        fc.property(repr, (generated) => {
          const input = { ...generated } as DhcpRepr;
          if (input.unknownOptions) input.unknownOptions = input.unknownOptions.map((o) => ({ ...o }));
          const length = dhcpLength(input);
          expect(length).toBeGreaterThanOrEqual(300);
          const buffer = poisoned(length + 4);
          expect(emitDhcp(input, buffer)).toBe(length);
          expect(Array.from(buffer.subarray(length))).toEqual([0xa5, 0xa5, 0xa5, 0xa5]);
          expect(reprOf(buffer.subarray(0, length))).toEqual(input);
        }),
        { numRuns: 500 },
      );
    });
  });
});
