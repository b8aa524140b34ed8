/**
 * DHCP messages (RFC 2131) on the BOOTP layout, with the options of RFC 2132 a client needs. Parsing
 * concatenates repeated options (RFC 3396) and reads the `file` and `sname` fields when option 52 says
 * they hold options; emitting splits values longer than 255 bytes the same way. Only Ethernet hardware
 * addresses are supported.
 */
import { type Ipv4Address, type MacAddress, readIpv4, readMac, readU32, writeIpv4, writeMac, writeU32 } from './address.js';
import { type WireResult, wireError, wireOk } from './result.js';
import { NetError } from '../errors.js';

/** Field offsets of a BOOTP message; options follow the magic cookie. */
const Field = {
  operation: 0,
  hardwareType: 1,
  hardwareLength: 2,
  hops: 3,
  transactionId: 4,
  seconds: 8,
  flags: 10,
  clientAddress: 12,
  yourAddress: 16,
  serverAddress: 20,
  relayAddress: 24,
  clientHardware: 28,
  serverName: 44,
  file: 108,
  magic: 236,
  options: 240,
} as const;

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

/** The fixed BOOTP fields and the magic cookie. */
const DHCP_HEADER_LENGTH = 240;
/** RFC 951's minimum BOOTP message, which some relays and servers still insist on. */
const BOOTP_MINIMUM_LENGTH = 300;
const MAGIC_COOKIE = [0x63, 0x82, 0x53, 0x63] as const;
const BROADCAST_FLAG = 0x8000;
const HARDWARE_ETHERNET = 1;
const ETHERNET_ADDRESS_LENGTH = 6;
const OPERATION_REQUEST = 1;
const OPERATION_REPLY = 2;

/** Option codes (RFC 2132) this module maps to repr fields. */
const Option = {
  pad: 0,
  subnetMask: 1,
  routers: 3,
  dnsServers: 6,
  hostname: 12,
  domainName: 15,
  requestedAddress: 50,
  leaseSeconds: 51,
  overload: 52,
  messageType: 53,
  serverIdentifier: 54,
  parameterRequestList: 55,
  message: 56,
  maxMessageSize: 57,
  renewalSeconds: 58,
  rebindingSeconds: 59,
  clientIdentifier: 61,
  end: 255,
} as const;

const KNOWN_OPTIONS = new Set<number>(Object.values(Option));

export const DhcpMessageTypeValue = { discover: 1, offer: 2, request: 3, decline: 4, ack: 5, nak: 6, release: 7, inform: 8 } as const;

export type DhcpMessageType =
  | { kind: 'discover' | 'offer' | 'request' | 'decline' | 'ack' | 'nak' | 'release' | 'inform' }
  | { kind: 'unknown'; value: number };

const MESSAGE_TYPE_KINDS = ['discover', 'offer', 'request', 'decline', 'ack', 'nak', 'release', 'inform'] as const;

export function dhcpMessageTypeOf(value: number): DhcpMessageType {
  const kind = MESSAGE_TYPE_KINDS[value - 1];
  return kind ? { kind } : { kind: 'unknown', value };
}

export function dhcpMessageTypeValue(type: DhcpMessageType): number {
  return type.kind === 'unknown' ? type.value : DhcpMessageTypeValue[type.kind];
}

export interface DhcpRepr {
  operation: 'request' | 'reply';
  transactionId: number;
  seconds: number;
  broadcast: boolean;
  /** ciaddr */
  clientAddress: Ipv4Address;
  /** yiaddr: the address offered or assigned. */
  yourAddress: Ipv4Address;
  /** siaddr: the next server (TFTP), not necessarily the DHCP server: see `serverIdentifier`. */
  serverAddress: Ipv4Address;
  /** giaddr */
  relayAddress: Ipv4Address;
  clientHardware: MacAddress;
  messageType: DhcpMessageType;
  subnetMask?: Ipv4Address;
  routers?: Ipv4Address[];
  dnsServers?: Ipv4Address[];
  hostname?: string;
  domainName?: string;
  requestedAddress?: Ipv4Address;
  leaseSeconds?: number;
  /** T1 */
  renewalSeconds?: number;
  /** T2 */
  rebindingSeconds?: number;
  serverIdentifier?: Ipv4Address;
  parameterRequestList?: number[];
  clientIdentifier?: Uint8Array;
  maxMessageSize?: number;
  message?: string;
  /** Options without a field here (and not pad, end or overload), in order of first appearance. */
  unknownOptions?: { code: number; data: Uint8Array }[];
}

/**
 * A view of a DHCP message. Construct it with `checked()` on untrusted bytes; after that, getters never
 * throw.
 */
export class DhcpPacket {
  private constructor(readonly bytes: Uint8Array) {}

  /** The message, if it holds the 236 BOOTP bytes ('truncated' otherwise) and the DHCP magic cookie ('malformed' otherwise). */
  static checked(bytes: Uint8Array): WireResult<DhcpPacket> {
    if (bytes.length < DHCP_HEADER_LENGTH) return wireError('truncated', `${bytes.length} bytes is shorter than a DHCP message`);
    for (let i = 0; i < MAGIC_COOKIE.length; i++) {
      if (bytes[Field.magic + i] !== MAGIC_COOKIE[i]) return wireError('malformed', 'no DHCP magic cookie');
    }
    return wireOk(new DhcpPacket(bytes));
  }

  /** 1 (BOOTREQUEST) or 2 (BOOTREPLY); anything else is malformed. */
  get operation(): number {
    return this.bytes[Field.operation]!;
  }
  get hardwareType(): number {
    return this.bytes[Field.hardwareType]!;
  }
  get hardwareLength(): number {
    return this.bytes[Field.hardwareLength]!;
  }
  get hops(): number {
    return this.bytes[Field.hops]!;
  }
  get transactionId(): number {
    return readU32(this.bytes, Field.transactionId);
  }
  get seconds(): number {
    return (this.bytes[Field.seconds]! << 8) | this.bytes[Field.seconds + 1]!;
  }
  get flags(): number {
    return (this.bytes[Field.flags]! << 8) | this.bytes[Field.flags + 1]!;
  }
  get broadcast(): boolean {
    return (this.flags & BROADCAST_FLAG) !== 0;
  }
  get clientAddress(): Ipv4Address {
    return readIpv4(this.bytes, Field.clientAddress);
  }
  get yourAddress(): Ipv4Address {
    return readIpv4(this.bytes, Field.yourAddress);
  }
  get serverAddress(): Ipv4Address {
    return readIpv4(this.bytes, Field.serverAddress);
  }
  get relayAddress(): Ipv4Address {
    return readIpv4(this.bytes, Field.relayAddress);
  }
  /** The first six bytes of chaddr (an Ethernet address when hardwareType is 1 and hardwareLength 6). */
  get clientHardware(): MacAddress {
    return readMac(this.bytes, Field.clientHardware);
  }
  /** The options area after the magic cookie. */
  get options(): Uint8Array {
    return this.bytes.subarray(Field.options);
  }
}

/**
 * Collects the options in bytes[start..end) into `found` (concatenating a repeated code's pieces), stopping
 * at the end option. Returns what is malformed, or undefined.
 */
function collectOptions(bytes: Uint8Array, start: number, end: number, found: Map<number, Uint8Array[]>): string | undefined {
  let at = start;
  while (at < end) {
    const code = bytes[at]!;
    if (code === Option.end) return undefined;
    if (code === Option.pad) {
      at += 1;
      continue;
    }
    if (at + 1 >= end) return `DHCP option ${code} has no length byte`;
    const length = bytes[at + 1]!;
    if (at + 2 + length > end) return `DHCP option ${code} of length ${length} runs past the end`;
    const data = bytes.subarray(at + 2, at + 2 + length);
    const pieces = found.get(code);
    if (pieces) pieces.push(data);
    else found.set(code, [data]);
    at += 2 + length;
  }
  return undefined;
}

function concatenate(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const whole = new Uint8Array(pieces.reduce((n, piece) => n + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    whole.set(piece, at);
    at += piece.length;
  }
  return whole;
}

/** Latin-1 text without the trailing NULs some clients add. */
function textOf(data: Uint8Array): string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  let text = '';
  for (let i = 0; i < end; i++) text += String.fromCharCode(data[i]!);
  return text;
}

function addressesOf(data: Uint8Array): Ipv4Address[] {
  const addresses: Ipv4Address[] = [];
  for (let at = 0; at < data.length; at += 4) addresses.push(readIpv4(data, at));
  return addresses;
}

/** The repr ('malformed' for a bad operation, option, option length or a missing message type; 'unsupported' for non-Ethernet hardware). */
export function parseDhcp(packet: DhcpPacket): WireResult<DhcpRepr> {
  const operation = packet.operation;
  if (operation !== OPERATION_REQUEST && operation !== OPERATION_REPLY) return wireError('malformed', `BOOTP operation ${operation}`);
  if (packet.hardwareType !== HARDWARE_ETHERNET || packet.hardwareLength !== ETHERNET_ADDRESS_LENGTH) {
    return wireError('unsupported', `hardware type ${packet.hardwareType} with ${packet.hardwareLength}-byte addresses`);
  }

  const bytes = packet.bytes;
  const found = new Map<number, Uint8Array[]>();
  let problem = collectOptions(bytes, Field.options, bytes.length, found);
  if (problem !== undefined) return wireError('malformed', problem);
  const overloadPieces = found.get(Option.overload);
  if (overloadPieces) {
    const overload = concatenate(overloadPieces);
    if (overload.length !== 1 || overload[0]! < 1 || overload[0]! > 3)
      return wireError('malformed', 'DHCP option overload is not 1, 2 or 3');
    // RFC 3396: options, then file, then sname.
    if (overload[0]! & 1) problem = collectOptions(bytes, Field.file, Field.magic, found);
    if (problem === undefined && overload[0]! & 2) problem = collectOptions(bytes, Field.serverName, Field.file, found);
    if (problem !== undefined) return wireError('malformed', problem);
  }

  const typePieces = found.get(Option.messageType);
  if (!typePieces) return wireError('malformed', 'DHCP message without a message type');

  const repr: DhcpRepr = {
    operation: operation === OPERATION_REQUEST ? 'request' : 'reply',
    transactionId: packet.transactionId,
    seconds: packet.seconds,
    broadcast: packet.broadcast,
    clientAddress: packet.clientAddress,
    yourAddress: packet.yourAddress,
    serverAddress: packet.serverAddress,
    relayAddress: packet.relayAddress,
    clientHardware: packet.clientHardware,
    messageType: { kind: 'unknown', value: 0 },
  };
  for (const [code, pieces] of found) {
    const data = concatenate(pieces);
    const exactly = (length: number) => data.length === length;
    const listOf = (size: number) => data.length >= size && data.length % size === 0;
    let fits = true;
    switch (code) {
      case Option.messageType:
        if ((fits = exactly(1))) repr.messageType = dhcpMessageTypeOf(data[0]!);
        break;
      case Option.subnetMask:
        if ((fits = exactly(4))) repr.subnetMask = readIpv4(data, 0);
        break;
      case Option.routers:
        if ((fits = listOf(4))) repr.routers = addressesOf(data);
        break;
      case Option.dnsServers:
        if ((fits = listOf(4))) repr.dnsServers = addressesOf(data);
        break;
      case Option.hostname:
        if ((fits = listOf(1))) repr.hostname = textOf(data);
        break;
      case Option.domainName:
        if ((fits = listOf(1))) repr.domainName = textOf(data);
        break;
      case Option.requestedAddress:
        if ((fits = exactly(4))) repr.requestedAddress = readIpv4(data, 0);
        break;
      case Option.leaseSeconds:
        if ((fits = exactly(4))) repr.leaseSeconds = readU32(data, 0);
        break;
      case Option.renewalSeconds:
        if ((fits = exactly(4))) repr.renewalSeconds = readU32(data, 0);
        break;
      case Option.rebindingSeconds:
        if ((fits = exactly(4))) repr.rebindingSeconds = readU32(data, 0);
        break;
      case Option.serverIdentifier:
        if ((fits = exactly(4))) repr.serverIdentifier = readIpv4(data, 0);
        break;
      case Option.parameterRequestList:
        if ((fits = listOf(1))) repr.parameterRequestList = Array.from(data);
        break;
      case Option.clientIdentifier:
        if ((fits = listOf(1))) repr.clientIdentifier = data;
        break;
      case Option.maxMessageSize:
        if ((fits = exactly(2))) repr.maxMessageSize = (data[0]! << 8) | data[1]!;
        break;
      case Option.message:
        if ((fits = listOf(1))) repr.message = textOf(data);
        break;
      case Option.overload:
        break;
      default:
        if (repr.unknownOptions) repr.unknownOptions.push({ code, data });
        else repr.unknownOptions = [{ code, data }];
    }
    if (!fits) return wireError('malformed', `DHCP option ${code} has length ${data.length}`);
  }
  return wireOk(repr);
}

/** The bytes of the text, one per character; our own data, so a character past 0xff throws a NetError. */
function bytesOfText(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new NetError('invalid-text', `DHCP text "${text}" has a character past Latin-1`);
    bytes[i] = code;
  }
  return bytes;
}

function bytesOfAddresses(addresses: Ipv4Address[]): Uint8Array {
  const bytes = new Uint8Array(addresses.length * 4);
  addresses.forEach((address, i) => writeIpv4(bytes, i * 4, address));
  return bytes;
}

function u32Bytes(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  writeU32(bytes, 0, value >>> 0);
  return bytes;
}

/**
 * The options of a repr, in emission order: the message type first, then the fields in an order that
 * matches both dnsmasq's replies and udhcpc's requests, then the unknown options as given. Empty known
 * values are left out (a zero-length known option would not parse).
 */
function optionsOf(repr: DhcpRepr): [number, Uint8Array][] {
  const options: [number, Uint8Array][] = [[Option.messageType, Uint8Array.of(dhcpMessageTypeValue(repr.messageType) & 0xff)]];
  const add = (code: number, data: Uint8Array | undefined) => {
    if (data && data.length > 0) options.push([code, data]);
  };
  const u32 = (value: number | undefined) => (value === undefined ? undefined : u32Bytes(value));
  add(Option.requestedAddress, u32(repr.requestedAddress));
  add(Option.serverIdentifier, u32(repr.serverIdentifier));
  add(Option.leaseSeconds, u32(repr.leaseSeconds));
  add(Option.renewalSeconds, u32(repr.renewalSeconds));
  add(Option.rebindingSeconds, u32(repr.rebindingSeconds));
  add(Option.subnetMask, u32(repr.subnetMask));
  add(Option.routers, repr.routers && bytesOfAddresses(repr.routers));
  add(Option.dnsServers, repr.dnsServers && bytesOfAddresses(repr.dnsServers));
  add(Option.domainName, repr.domainName === undefined ? undefined : bytesOfText(repr.domainName));
  add(
    Option.maxMessageSize,
    repr.maxMessageSize === undefined ? undefined : Uint8Array.of((repr.maxMessageSize >>> 8) & 0xff, repr.maxMessageSize & 0xff),
  );
  add(Option.parameterRequestList, repr.parameterRequestList && Uint8Array.from(repr.parameterRequestList, (code) => code & 0xff));
  add(Option.hostname, repr.hostname === undefined ? undefined : bytesOfText(repr.hostname));
  add(Option.clientIdentifier, repr.clientIdentifier);
  add(Option.message, repr.message === undefined ? undefined : bytesOfText(repr.message));
  for (const { code, data } of repr.unknownOptions ?? []) options.push([code & 0xff, data]);
  return options;
}

/** An option's bytes on the wire: values over 255 bytes take several options of the same code. */
function optionLength(data: Uint8Array): number {
  return data.length === 0 ? 2 : data.length + 2 * Math.ceil(data.length / 255);
}

/** 240 + options + end, at least 300 (BOOTP minimum, padded). */
export function dhcpLength(repr: DhcpRepr): number {
  const options = optionsOf(repr).reduce((n, [, data]) => n + optionLength(data), 0);
  return Math.max(BOOTP_MINIMUM_LENGTH, DHCP_HEADER_LENGTH + options + 1);
}

/**
 * Writes the message into buffer[0..dhcpLength(repr)] (sname and file zeroed, pad bytes zero); returns
 * its length. Throws a NetError for text that is not Latin-1.
 */
export function emitDhcp(repr: DhcpRepr, buffer: Uint8Array): number {
  const options = optionsOf(repr);
  const length = Math.max(BOOTP_MINIMUM_LENGTH, DHCP_HEADER_LENGTH + options.reduce((n, [, data]) => n + optionLength(data), 0) + 1);
  buffer.fill(0, 0, length);
  buffer[Field.operation] = repr.operation === 'request' ? OPERATION_REQUEST : OPERATION_REPLY;
  buffer[Field.hardwareType] = HARDWARE_ETHERNET;
  buffer[Field.hardwareLength] = ETHERNET_ADDRESS_LENGTH;
  writeU32(buffer, Field.transactionId, repr.transactionId >>> 0);
  buffer[Field.seconds] = (repr.seconds >>> 8) & 0xff;
  buffer[Field.seconds + 1] = repr.seconds & 0xff;
  buffer[Field.flags] = repr.broadcast ? BROADCAST_FLAG >> 8 : 0;
  writeIpv4(buffer, Field.clientAddress, repr.clientAddress);
  writeIpv4(buffer, Field.yourAddress, repr.yourAddress);
  writeIpv4(buffer, Field.serverAddress, repr.serverAddress);
  writeIpv4(buffer, Field.relayAddress, repr.relayAddress);
  writeMac(buffer, Field.clientHardware, repr.clientHardware);
  buffer.set(MAGIC_COOKIE, Field.magic);

  let at = Field.options;
  for (const [code, data] of options) {
    let offset = 0;
    do {
      const piece = Math.min(255, data.length - offset);
      buffer[at] = code;
      buffer[at + 1] = piece;
      buffer.set(data.subarray(offset, offset + piece), at + 2);
      at += 2 + piece;
      offset += piece;
    } while (offset < data.length);
  }
  buffer[at] = Option.end;
  return length;
}

/** Whether a code has a repr field of its own (or is pad, end or overload): such codes are not unknown options. */
export function isKnownDhcpOption(code: number): boolean {
  return KNOWN_OPTIONS.has(code);
}
