/**
 * DNS messages (RFC 1035) with name compression. Names are dotted text without the trailing dot ('' is
 * the root); a label byte that is '.', '\' or not printable ASCII is escaped as in master files ("\.",
 * "\\", "\DDD"), so every name reads back to the same labels. Compression pointers must point before the
 * name being read (so a loop or a forward pointer is 'malformed'), with a hop limit besides.
 */
import { type Ipv4Address, readIpv4 } from './address.js';
import { type WireResult, wireError, wireOk } from './result.js';
import { NetError } from '../errors.js';

/** Field offsets of a DNS header. */
const Field = { id: 0, flags: 2, questionCount: 4, answerCount: 6, authorityCount: 8, additionalCount: 10 } as const;

export const DNS_PORT = 53;
export const DNS_HEADER_LENGTH = 12;

export const DnsTypeValue = { a: 1, ns: 2, cname: 5, soa: 6, ptr: 12, mx: 15, txt: 16, aaaa: 28 } as const;
const CLASS_IN = 1;

const Flag = { response: 0x8000, authoritative: 0x0400, truncated: 0x0200, recursionDesired: 0x0100, recursionAvailable: 0x0080 } as const;

const MAX_LABEL_LENGTH = 63;
/** Of a name on the wire: its labels with their length bytes and the root's zero byte. */
const MAX_NAME_LENGTH = 255;
/** Pointers followed while reading one name; more means a crafted chain. */
const MAX_POINTER_HOPS = 128;
/** Offsets a compression pointer can hold. */
const MAX_POINTER_OFFSET = 0x3fff;

export type DnsRecordData =
  | { kind: 'a'; address: Ipv4Address }
  | { kind: 'cname'; name: string }
  /** Other types' rdata; for NS, PTR, MX and SOA, with the compressed names expanded so it stands alone. */
  | { kind: 'unknown'; type: number; data: Uint8Array };

export interface DnsQuestion {
  /** Lower case is NOT forced; no trailing dot. */
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** 'a' for type A in class IN, 'cname' for CNAME; emitting writes the data's kind, with `type` as given. */
  data: DnsRecordData;
}

export interface DnsRepr {
  id: number;
  response: boolean;
  opcode: number;
  authoritative: boolean;
  truncated: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  /** The 4-bit RCODE of the header (EDNS extended codes stay in the OPT record, an additional of type 41). */
  responseCode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/**
 * A view of a DNS message. Construct it with `checked()` on untrusted bytes; after that, getters never
 * throw. The sections are read by `parseDns`.
 */
export class DnsPacket {
  private constructor(readonly bytes: Uint8Array) {}

  /** The message, if it holds a 12-byte header. */
  static checked(bytes: Uint8Array): WireResult<DnsPacket> {
    if (bytes.length < DNS_HEADER_LENGTH) return wireError('truncated', `${bytes.length} bytes is shorter than a DNS header`);
    return wireOk(new DnsPacket(bytes));
  }

  get id(): number {
    return readU16(this.bytes, Field.id);
  }
  /** The 16 flag bits: QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE. */
  get flags(): number {
    return readU16(this.bytes, Field.flags);
  }
  get response(): boolean {
    return (this.flags & Flag.response) !== 0;
  }
  get opcode(): number {
    return (this.flags >> 11) & 0x0f;
  }
  get authoritative(): boolean {
    return (this.flags & Flag.authoritative) !== 0;
  }
  get truncated(): boolean {
    return (this.flags & Flag.truncated) !== 0;
  }
  get recursionDesired(): boolean {
    return (this.flags & Flag.recursionDesired) !== 0;
  }
  get recursionAvailable(): boolean {
    return (this.flags & Flag.recursionAvailable) !== 0;
  }
  get responseCode(): number {
    return this.flags & 0x0f;
  }
  get questionCount(): number {
    return readU16(this.bytes, Field.questionCount);
  }
  get answerCount(): number {
    return readU16(this.bytes, Field.answerCount);
  }
  get authorityCount(): number {
    return readU16(this.bytes, Field.authorityCount);
  }
  get additionalCount(): number {
    return readU16(this.bytes, Field.additionalCount);
  }
}

type NameResult = { ok: true; next: number } | { ok: false; kind: 'truncated' | 'malformed'; detail: string };

/**
 * Walks the (possibly compressed) name at `start`, calling `label` with each label's offset and length.
 * Its uncompressed part must end by `end` (past it: `overrun`); each pointer must point before the part
 * that holds it. `next` is the offset after the name where it starts.
 */
function walkName(
  bytes: Uint8Array,
  start: number,
  end: number,
  overrun: 'truncated' | 'malformed',
  label: (at: number, length: number) => void,
): NameResult {
  let at = start;
  let bound = end;
  let partStart = start;
  let next = -1;
  let hops = 0;
  let length = 1; // the root's zero byte
  for (;;) {
    if (at >= bound) return { ok: false, kind: overrun, detail: `DNS name at ${start} runs past ${bound}` };
    const size = bytes[at]!;
    if (size === 0) return { ok: true, next: next < 0 ? at + 1 : next };
    const type = size & 0xc0;
    if (type === 0xc0) {
      if (at + 1 >= bound) return { ok: false, kind: overrun, detail: `DNS name at ${start} runs past ${bound}` };
      const target = ((size & 0x3f) << 8) | bytes[at + 1]!;
      if (next < 0) next = at + 2;
      if (target >= partStart)
        return { ok: false, kind: 'malformed', detail: `DNS compression pointer at ${at} to ${target} does not point back` };
      if (++hops > MAX_POINTER_HOPS)
        return { ok: false, kind: 'malformed', detail: `DNS name at ${start} follows over ${MAX_POINTER_HOPS} pointers` };
      at = partStart = target;
      bound = bytes.length;
      continue;
    }
    if (type !== 0) return { ok: false, kind: 'malformed', detail: `DNS label type 0x${type.toString(16)} at ${at}` };
    if (at + 1 + size > bound) return { ok: false, kind: overrun, detail: `DNS name at ${start} runs past ${bound}` };
    length += 1 + size;
    if (length > MAX_NAME_LENGTH) return { ok: false, kind: 'malformed', detail: `DNS name at ${start} is over ${MAX_NAME_LENGTH} bytes` };
    label(at + 1, size);
    at += 1 + size;
  }
}

const BACKSLASH = 0x5c;
const DOT = 0x2e;

function escapedLabel(bytes: Uint8Array, at: number, length: number): string {
  let text = '';
  for (let i = at; i < at + length; i++) {
    const byte = bytes[i]!;
    if (byte === DOT || byte === BACKSLASH) text += `\\${String.fromCharCode(byte)}`;
    else if (byte <= 0x20 || byte >= 0x7f) text += `\\${String(byte).padStart(3, '0')}`;
    else text += String.fromCharCode(byte);
  }
  return text;
}

type Read<T> = { ok: true; value: T; next: number } | { ok: false; error: WireResult<never> };

function readName(bytes: Uint8Array, start: number, end: number, overrun: 'truncated' | 'malformed'): Read<string> {
  let name = '';
  const walked = walkName(bytes, start, end, overrun, (at, length) => {
    name += (name.length > 0 ? '.' : '') + escapedLabel(bytes, at, length);
  });
  // An empty first label cannot occur (a zero length ends the name), so '' is the root alone.
  return walked.ok ? { ok: true, value: name, next: walked.next } : { ok: false, error: wireError(walked.kind, walked.detail) };
}

/** Appends the uncompressed wire form of the name at `start` to `out`. */
function expandName(bytes: Uint8Array, start: number, end: number, out: number[]): Read<null> {
  const walked = walkName(bytes, start, end, 'malformed', (at, length) => {
    out.push(length);
    for (let i = at; i < at + length; i++) out.push(bytes[i]!);
  });
  if (!walked.ok) return { ok: false, error: wireError(walked.kind, walked.detail) };
  out.push(0);
  return { ok: true, value: null, next: walked.next };
}

/**
 * The rdata of NS, PTR, MX and SOA with its names expanded (they may point anywhere in the message);
 * 'malformed' when the names do not fill the rdata exactly.
 */
function expandedRdata(bytes: Uint8Array, type: number, start: number, end: number): WireResult<Uint8Array> {
  const out: number[] = [];
  let at = start;
  const name = (): WireResult<never> | undefined => {
    const read = expandName(bytes, at, end, out);
    if (!read.ok) return read.error;
    at = read.next;
    return undefined;
  };
  const fixed = (count: number): WireResult<never> | undefined => {
    if (at + count > end) return wireError('malformed', `DNS type ${type} rdata is short`);
    for (let i = 0; i < count; i++) out.push(bytes[at + i]!);
    at += count;
    return undefined;
  };
  const failed = type === DnsTypeValue.mx ? (fixed(2) ?? name()) : type === DnsTypeValue.soa ? (name() ?? name() ?? fixed(20)) : name();
  if (failed) return failed;
  if (at !== end) return wireError('malformed', `DNS type ${type} rdata has ${end - at} bytes after its data`);
  return wireOk(Uint8Array.from(out));
}

function readRecord(bytes: Uint8Array, start: number): Read<DnsRecord> {
  const owner = readName(bytes, start, bytes.length, 'truncated');
  if (!owner.ok) return owner;
  let at = owner.next;
  if (at + 10 > bytes.length) return { ok: false, error: wireError('truncated', `DNS record at ${start} is cut in its fixed fields`) };
  const type = readU16(bytes, at);
  const klass = readU16(bytes, at + 2);
  const ttl = readIpv4(bytes, at + 4);
  const rdlength = readU16(bytes, at + 8);
  at += 10;
  const end = at + rdlength;
  if (end > bytes.length)
    return { ok: false, error: wireError('truncated', `DNS record at ${start} has ${rdlength} bytes of data past the end`) };
  let data: DnsRecordData;
  if (type === DnsTypeValue.a && klass === CLASS_IN) {
    if (rdlength !== 4) return { ok: false, error: wireError('malformed', `DNS A record with ${rdlength} bytes of data`) };
    data = { kind: 'a', address: readIpv4(bytes, at) };
  } else if (type === DnsTypeValue.cname) {
    const target = readName(bytes, at, end, 'malformed');
    if (!target.ok) return target;
    if (target.next !== end)
      return { ok: false, error: wireError('malformed', `DNS CNAME record with ${end - target.next} bytes after its name`) };
    data = { kind: 'cname', name: target.value };
  } else if (type === DnsTypeValue.ns || type === DnsTypeValue.ptr || type === DnsTypeValue.mx || type === DnsTypeValue.soa) {
    const expanded = expandedRdata(bytes, type, at, end);
    if (!expanded.ok) return { ok: false, error: expanded };
    data = { kind: 'unknown', type, data: expanded.value };
  } else {
    data = { kind: 'unknown', type, data: bytes.subarray(at, end) };
  }
  return { ok: true, value: { name: owner.value, type, class: klass, ttl, data }, next: end };
}

/**
 * The header and the four sections. Bytes after the last record are ignored. 'truncated' when a section
 * or a record's rdata runs past the end; 'malformed' for bad names (labels over 63 bytes, names over 255,
 * reserved label types, pointers that do not point back, too many hops) or rdata of the wrong shape.
 */
export function parseDns(packet: DnsPacket): WireResult<DnsRepr> {
  const bytes = packet.bytes;
  const repr: DnsRepr = {
    id: packet.id,
    response: packet.response,
    opcode: packet.opcode,
    authoritative: packet.authoritative,
    truncated: packet.truncated,
    recursionDesired: packet.recursionDesired,
    recursionAvailable: packet.recursionAvailable,
    responseCode: packet.responseCode,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  let at = DNS_HEADER_LENGTH;
  for (let i = 0; i < packet.questionCount; i++) {
    const name = readName(bytes, at, bytes.length, 'truncated');
    if (!name.ok) return name.error;
    at = name.next;
    if (at + 4 > bytes.length) return wireError('truncated', `DNS question ${i} is cut in its type and class`);
    repr.questions.push({ name: name.value, type: readU16(bytes, at), class: readU16(bytes, at + 2) });
    at += 4;
  }
  const sections: [DnsRecord[], number][] = [
    [repr.answers, packet.answerCount],
    [repr.authorities, packet.authorityCount],
    [repr.additionals, packet.additionalCount],
  ];
  for (const [records, count] of sections) {
    for (let i = 0; i < count; i++) {
      const record = readRecord(bytes, at);
      if (!record.ok) return record.error;
      records.push(record.value);
      at = record.next;
    }
  }
  return wireOk(repr);
}

/** The labels of a name as bytes; throws a NetError for an empty label, a bad escape or a label or name over the limits. */
function labelsOf(name: string): number[][] {
  if (name === '' || name === '.') return [];
  const labels: number[][] = [];
  let label: number[] = [];
  let i = 0;
  let endsWithDot = false;
  while (i < name.length) {
    const code = name.charCodeAt(i);
    endsWithDot = false;
    if (code === DOT) {
      if (label.length === 0) throw new NetError('invalid-name', `DNS name "${name}" has an empty label`);
      labels.push(label);
      label = [];
      endsWithDot = true;
      i += 1;
      continue;
    }
    if (code === BACKSLASH) {
      const digits = /^[0-9]{3}/.exec(name.slice(i + 1, i + 4));
      if (digits) {
        const value = Number(digits[0]);
        if (value > 0xff) throw new NetError('invalid-name', `DNS name "${name}" has the escape \\${digits[0]}`);
        label.push(value);
        i += 4;
      } else {
        if (i + 1 >= name.length) throw new NetError('invalid-name', `DNS name "${name}" ends in a backslash`);
        const escaped = name.charCodeAt(i + 1);
        if (escaped > 0xff) throw new NetError('invalid-name', `DNS name "${name}" has a character past Latin-1`);
        label.push(escaped);
        i += 2;
      }
    } else {
      if (code > 0xff) throw new NetError('invalid-name', `DNS name "${name}" has a character past Latin-1`);
      label.push(code);
      i += 1;
    }
    if (label.length > MAX_LABEL_LENGTH)
      throw new NetError('invalid-name', `DNS name "${name}" has a label over ${MAX_LABEL_LENGTH} bytes`);
  }
  if (!endsWithDot) labels.push(label);
  const length = labels.reduce((n, l) => n + 1 + l.length, 1);
  if (length > MAX_NAME_LENGTH) throw new NetError('invalid-name', `DNS name "${name}" is ${length} bytes, over ${MAX_NAME_LENGTH}`);
  return labels;
}

/**
 * Writes a message, or only measures it when there is no buffer: both take the same compression
 * decisions, so `dnsLength` and `emitDns` agree.
 */
class Writer {
  at = 0;
  /** Where each name suffix already written starts, keyed by its uncompressed wire form. */
  private readonly suffixes = new Map<string, number>();

  constructor(private readonly buffer: Uint8Array | undefined) {}

  u8(value: number): void {
    if (this.buffer) this.buffer[this.at] = value & 0xff;
    this.at += 1;
  }

  u16(value: number): void {
    this.u8(value >>> 8);
    this.u8(value);
  }

  u32(value: number): void {
    this.u16(value >>> 16);
    this.u16(value & 0xffff);
  }

  bytes(data: Uint8Array): void {
    if (this.buffer) this.buffer.set(data, this.at);
    this.at += data.length;
  }

  patchU16(at: number, value: number): void {
    if (!this.buffer) return;
    this.buffer[at] = (value >>> 8) & 0xff;
    this.buffer[at + 1] = value & 0xff;
  }

  /** Writes a name, ending in a pointer to the longest suffix written before (case-sensitively: what is sent is what was given). */
  name(name: string): void {
    const labels = labelsOf(name);
    const keys: string[] = new Array<string>(labels.length);
    let key = '';
    for (let i = labels.length - 1; i >= 0; i--) {
      key = String.fromCharCode(labels[i]!.length, ...labels[i]!) + key;
      keys[i] = key;
    }
    for (let i = 0; i < labels.length; i++) {
      const earlier = this.suffixes.get(keys[i]!);
      if (earlier !== undefined) {
        this.u16(0xc000 | earlier);
        return;
      }
      if (this.at <= MAX_POINTER_OFFSET) this.suffixes.set(keys[i]!, this.at);
      this.u8(labels[i]!.length);
      for (const byte of labels[i]!) this.u8(byte);
    }
    this.u8(0);
  }
}

function writeMessage(repr: DnsRepr, writer: Writer): number {
  writer.u16(repr.id);
  writer.u16(
    (repr.response ? Flag.response : 0) |
      ((repr.opcode & 0x0f) << 11) |
      (repr.authoritative ? Flag.authoritative : 0) |
      (repr.truncated ? Flag.truncated : 0) |
      (repr.recursionDesired ? Flag.recursionDesired : 0) |
      (repr.recursionAvailable ? Flag.recursionAvailable : 0) |
      (repr.responseCode & 0x0f),
  );
  writer.u16(repr.questions.length);
  writer.u16(repr.answers.length);
  writer.u16(repr.authorities.length);
  writer.u16(repr.additionals.length);
  for (const question of repr.questions) {
    writer.name(question.name);
    writer.u16(question.type);
    writer.u16(question.class);
  }
  for (const record of [...repr.answers, ...repr.authorities, ...repr.additionals]) {
    writer.name(record.name);
    writer.u16(record.type);
    writer.u16(record.class);
    writer.u32(record.ttl >>> 0);
    const lengthAt = writer.at;
    writer.u16(0);
    const data = record.data;
    switch (data.kind) {
      case 'a':
        writer.u32(data.address >>> 0);
        break;
      case 'cname':
        writer.name(data.name);
        break;
      default:
        writer.bytes(data.data);
    }
    writer.patchU16(lengthAt, writer.at - lengthAt - 2);
  }
  return writer.at;
}

/** The length `emitDns` writes, compression included. Throws a NetError as `emitDns` does. */
export function dnsLength(repr: DnsRepr): number {
  return writeMessage(repr, new Writer(undefined));
}

/**
 * Writes the message into buffer[0..dnsLength(repr)] and returns its length. Question, owner and CNAME
 * names are compressed (pointers to earlier occurrences of their longest written suffix); the rdata of
 * other types is written as given. Names over the limits (a label over 63 bytes, a name over 255, an
 * empty label) throw a NetError: emit is given our own data, not the network's.
 */
export function emitDns(repr: DnsRepr, buffer: Uint8Array): number {
  return writeMessage(repr, new Writer(buffer));
}
