/**
 * Addresses. An IPv4 address is a branded number (its 32 bits, unsigned), so it compares with ===, keys
 * Maps and costs no allocation on the data path, while the type system keeps a bare number from passing
 * for one (`ipv4FromNumber` converts on purpose). An `IpAddress` is either version: an IPv6 address will
 * be an object holding its 16 bytes (the stack speaks IPv4 only; the type is here so that the parts that
 * do not depend on the version, the transport layers, endpoints and the pseudo-header, are written for
 * both). `typeof address === 'number'` tells the versions apart at no cost (`isIpv4`).
 *
 * A MAC address is a 48-bit integer (exact in a double).
 */
import { NetError } from '../errors.js';

declare const ipVersion: unique symbol;

/** An IPv4 address: its 32 bits as an unsigned integer. */
export type Ipv4Address = number & { readonly [ipVersion]: 4 };

/**
 * An IPv6 address (RFC 4291): 16 bytes in network order. Not produced by the stack yet; when it is, each
 * address will be interned (one object per address), so that === and Map keys work as for IPv4.
 */
export interface Ipv6Address {
  readonly version: 6;
  readonly bytes: Uint8Array;
}

export type IpAddress = Ipv4Address | Ipv6Address;

export type MacAddress = number;

export const IPV4_ANY = 0 as Ipv4Address;
export const IPV4_BROADCAST = 0xffffffff as Ipv4Address;
export const MAC_BROADCAST: MacAddress = 0xffffffffffff;

export function isIpv4(address: IpAddress): address is Ipv4Address {
  return typeof address === 'number';
}

/** The address whose 32 bits `value` holds (taken modulo 2^32). */
export function ipv4FromNumber(value: number): Ipv4Address {
  return (value >>> 0) as Ipv4Address;
}

/** "10.0.2.15" -> number; undefined when it is not a dotted quad. */
export function parseIpv4Address(text: string): Ipv4Address | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0) as Ipv4Address;
}

/** Like parseIpv4Address, but throws a NetError naming the text. */
export function ipv4Address(text: string): Ipv4Address {
  const address = parseIpv4Address(text);
  if (address === undefined) throw new NetError('invalid-address', `"${text}" is not an IPv4 address`);
  return address;
}

export function formatIpv4Address(address: Ipv4Address): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/** Dotted quad for IPv4; eight groups of hex (RFC 4291 §2.2, uncompressed) for IPv6. */
export function formatIpAddress(address: IpAddress): string {
  if (isIpv4(address)) return formatIpv4Address(address);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address.bytes[i]! << 8) | address.bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/**
 * The address folded to 32 bits, for hashing (RFC 6528's ISN function): IPv4 as it is, IPv6 its four
 * words exclusive-ored.
 */
export function foldIpAddress(address: IpAddress): number {
  if (isIpv4(address)) return address;
  let folded = 0;
  for (let i = 0; i < 16; i += 4) folded ^= readU32(address.bytes, i);
  return folded >>> 0;
}

/** The network mask of a prefix length (24 -> 255.255.255.0). */
export function prefixMask(prefixLength: number): Ipv4Address {
  return (prefixLength <= 0 ? 0 : prefixLength >= 32 ? 0xffffffff : (0xffffffff << (32 - prefixLength)) >>> 0) as Ipv4Address;
}

export function readIpv4(bytes: Uint8Array, offset: number): Ipv4Address {
  return readU32(bytes, offset) as Ipv4Address;
}

export function writeIpv4(bytes: Uint8Array, offset: number, address: Ipv4Address): void {
  writeU32(bytes, offset, address);
}

/** A big-endian unsigned 32-bit number at `offset`. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

export function readMac(bytes: Uint8Array, offset: number): MacAddress {
  return ((bytes[offset]! << 8) | bytes[offset + 1]!) * 0x100000000 + readU32(bytes, offset + 2);
}

export function writeMac(bytes: Uint8Array, offset: number, mac: MacAddress): void {
  const high = Math.floor(mac / 0x100000000);
  bytes[offset] = (high >>> 8) & 0xff;
  bytes[offset + 1] = high & 0xff;
  writeU32(bytes, offset + 2, mac % 0x100000000);
}

export function macFromBytes(bytes: Uint8Array): MacAddress {
  return readMac(bytes, 0);
}

export function formatMac(mac: MacAddress): string {
  const bytes = new Uint8Array(6);
  writeMac(bytes, 0, mac);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** "52:54:00:12:34:56" -> number; undefined when malformed. */
export function parseMac(text: string): MacAddress | undefined {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(text)) return undefined;
  return macFromBytes(Uint8Array.from(text.split(':').map((h) => parseInt(h, 16))));
}

export function isMulticastMac(mac: MacAddress): boolean {
  return (Math.floor(mac / 0x10000000000) & 1) === 1;
}
