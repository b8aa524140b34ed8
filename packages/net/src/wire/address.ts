/**
 * Addresses as plain numbers, so they compare with ===, key Maps and cost no allocation on the data path:
 * an IPv4 address is an unsigned 32-bit integer, a MAC address a 48-bit integer (exact in a double).
 */
import { NetError } from '../errors.js';

export type Ipv4Address = number;
export type MacAddress = number;

export const IPV4_ANY: Ipv4Address = 0;
export const IPV4_BROADCAST: Ipv4Address = 0xffffffff;
export const MAC_BROADCAST: MacAddress = 0xffffffffffff;

/** "10.0.2.15" -> number; undefined when it is not a dotted quad. */
export function parseIpv4Address(text: string): Ipv4Address | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
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

/** The network mask of a prefix length (24 -> 255.255.255.0). */
export function prefixMask(prefixLength: number): Ipv4Address {
  return prefixLength <= 0 ? 0 : prefixLength >= 32 ? 0xffffffff : (0xffffffff << (32 - prefixLength)) >>> 0;
}

export function readIpv4(bytes: Uint8Array, offset: number): Ipv4Address {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

export function writeIpv4(bytes: Uint8Array, offset: number, address: Ipv4Address): void {
  bytes[offset] = address >>> 24;
  bytes[offset + 1] = (address >>> 16) & 0xff;
  bytes[offset + 2] = (address >>> 8) & 0xff;
  bytes[offset + 3] = address & 0xff;
}

export function readMac(bytes: Uint8Array, offset: number): MacAddress {
  return ((bytes[offset]! << 8) | bytes[offset + 1]!) * 0x100000000 + readIpv4(bytes, offset + 2);
}

export function writeMac(bytes: Uint8Array, offset: number, mac: MacAddress): void {
  const high = Math.floor(mac / 0x100000000);
  bytes[offset] = (high >>> 8) & 0xff;
  bytes[offset + 1] = high & 0xff;
  writeIpv4(bytes, offset + 2, mac % 0x100000000);
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
