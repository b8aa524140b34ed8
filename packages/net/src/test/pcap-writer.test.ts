import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock.js';
import { linkPair } from './loopback-device.js';
import { PCAP_FILE_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH, PcapWriter } from './pcap-writer.js';
import { NetError } from '../errors.js';

function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  return Uint8Array.from({ length: digits.length / 2 }, (_, i) => parseInt(digits.slice(2 * i, 2 * i + 2), 16));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

interface PcapRecord {
  seconds: number;
  microseconds: number;
  originalLength: number;
  data: Uint8Array;
}

/** Reads a little-endian microsecond pcap file back, independently of the writer. */
function readPcap(file: Uint8Array): { snapLength: number; linkType: number; records: PcapRecord[] } {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  expect(view.getUint32(0, true)).toBe(0xa1b2c3d4);
  const records: PcapRecord[] = [];
  let at = 24;
  while (at < file.length) {
    const included = view.getUint32(at + 8, true);
    records.push({
      seconds: view.getUint32(at, true),
      microseconds: view.getUint32(at + 4, true),
      originalLength: view.getUint32(at + 12, true),
      data: file.slice(at + 16, at + 16 + included),
    });
    at += 16 + included;
  }
  expect(at).toBe(file.length);
  return { snapLength: view.getUint32(16, true), linkType: view.getUint32(20, true), records };
}

describe('PcapWriter', () => {
  it('starts with the classic pcap file header, byte for byte', () => {
    const writer = new PcapWriter();
    expect(writer.bytes()).toEqual(
      hex(`
      d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
    `),
    );
    expect(writer.byteLength).toBe(PCAP_FILE_HEADER_LENGTH);
    expect(writer.frameCount).toBe(0);
  });

  it('lays out a record byte for byte, timestamps in seconds and microseconds', () => {
    const writer = new PcapWriter();
    // 1234.5678 ms = 1 s + 234567.8 us, rounded to 234568 us = 0x00039448.
    expect(writer.record(Uint8Array.of(0xaa, 0xbb, 0xcc), 1234.5678)).toBe(true);
    expect(writer.bytes().subarray(PCAP_FILE_HEADER_LENGTH)).toEqual(
      hex(`
      01000000 48940300 03000000 03000000 aabbcc
    `),
    );
    writer.record(new Uint8Array(0), 4_000_000_000_000.0005);
    expect(writer.bytes().subarray(PCAP_FILE_HEADER_LENGTH + 19)).toEqual(
      hex(`
      00286bee 01000000 00000000 00000000
    `),
    );
    expect(writer.byteLength).toBe(PCAP_FILE_HEADER_LENGTH + 2 * PCAP_RECORD_HEADER_LENGTH + 3);
    expect(writer.frameCount).toBe(2);
  });

  it('carries a millisecond rounding into the seconds', () => {
    const writer = new PcapWriter();
    writer.record(Uint8Array.of(1), 1999.9999);
    const [record] = readPcap(writer.bytes()).records;
    expect([record!.seconds, record!.microseconds]).toEqual([2, 0]);
  });

  it('stamps negative and non-finite times as 0', () => {
    const writer = new PcapWriter();
    writer.record(Uint8Array.of(1), -5);
    writer.record(Uint8Array.of(2), Number.NaN);
    for (const r of readPcap(writer.bytes()).records) expect([r.seconds, r.microseconds]).toEqual([0, 0]);
  });

  it('truncates frames to snapLength and keeps their original length', () => {
    const writer = new PcapWriter({ snapLength: 4 });
    writer.record(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0);
    writer.record(Uint8Array.of(1, 2), 0);
    const file = readPcap(writer.bytes());
    expect(file.snapLength).toBe(4);
    expect(file.linkType).toBe(1);
    expect(file.records.map((r) => [[...r.data], r.originalLength])).toEqual([
      [[1, 2, 3, 4], 10],
      [[1, 2], 2],
    ]);
  });

  it('grows past its first buffer and keeps every frame', () => {
    const writer = new PcapWriter();
    const frames = Array.from({ length: 3000 }, (_, i) => new Uint8Array(60 + (i % 1455)).fill(i & 0xff));
    for (const [i, frame] of frames.entries()) writer.record(frame, i);
    const records = readPcap(writer.bytes()).records;
    expect(records).toHaveLength(3000);
    const wrong = records.filter((r, i) => !sameBytes(r.data, frames[i]!) || r.seconds * 1000 + r.microseconds / 1000 !== i);
    expect(wrong).toHaveLength(0);
    expect(writer.byteLength).toBe(24 + frames.reduce((sum, f) => sum + 16 + f.length, 0));
  });

  it('stops at limitBytes and counts what it skipped', () => {
    const writer = new PcapWriter({ limitBytes: 24 + 2 * (16 + 10) });
    expect(writer.record(new Uint8Array(10), 0)).toBe(true);
    expect(writer.record(new Uint8Array(10), 0)).toBe(true);
    expect(writer.record(new Uint8Array(1), 0)).toBe(false);
    expect(writer.frameCount).toBe(2);
    expect(writer.skippedCount).toBe(1);
    expect(writer.byteLength).toBe(76);
    expect(() => new PcapWriter({ limitBytes: 10 })).toThrow(NetError);
    expect(() => new PcapWriter({ snapLength: 0 })).toThrow(NetError);
  });

  it('hands out copies: neither the caller nor later records change bytes() already taken', () => {
    const writer = new PcapWriter();
    const frame = Uint8Array.of(1, 2, 3);
    writer.record(frame, 0);
    frame[0] = 9;
    const first = writer.bytes();
    first[24 + 16] = 7;
    writer.record(frame, 0);
    expect(readPcap(writer.bytes()).records.map((r) => [...r.data])).toEqual([
      [1, 2, 3],
      [9, 2, 3],
    ]);
    expect(first.length).toBe(24 + 16 + 3);
  });
});

describe('PcapWriter.tap', () => {
  it('records frames sent when they are sent and frames received when they arrive', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock, latencyMs: 2 });
    const writer = new PcapWriter();
    const tapped = writer.tap(a, clock);
    const got: number[] = [];
    tapped.onReceive((f) => got.push(f[0]!));
    expect([tapped.name, tapped.mac, tapped.mtu]).toEqual([a.name, a.mac, a.mtu]);
    clock.advance(1000);
    expect(tapped.transmit(new Uint8Array(60).fill(1))).toEqual({ ok: true });
    b.onReceive((f) => b.transmit(new Uint8Array(f.length).fill(f[0]! + 1)));
    clock.runUntilIdle();
    const records = readPcap(writer.bytes()).records;
    expect(records.map((r) => [r.data[0], r.seconds, r.microseconds])).toEqual([
      [1, 1, 0],
      [2, 1, 4000],
    ]);
    expect(got).toEqual([2]);
  });

  it('records nothing for a refused frame and passes the refusal on', () => {
    const clock = new VirtualClock();
    const [a] = linkPair({ clock });
    const writer = new PcapWriter();
    expect(writer.tap(a, clock).transmit(new Uint8Array(1515))).toEqual({ ok: false, error: 'too-large' });
    expect(writer.frameCount).toBe(0);
  });

  it('records received frames even with no listener, and stops calling a listener that left', () => {
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock });
    const writer = new PcapWriter();
    const tapped = writer.tap(a, clock);
    b.transmit(Uint8Array.of(1));
    clock.runUntilIdle();
    const got: number[] = [];
    const stop = tapped.onReceive((f) => got.push(f[0]!));
    b.transmit(Uint8Array.of(2));
    clock.runUntilIdle();
    stop();
    b.transmit(Uint8Array.of(3));
    clock.runUntilIdle();
    expect(got).toEqual([2]);
    expect(writer.frameCount).toBe(3);
  });
});

// Node's modules, reached without @types/node (this package's programs are typed for ES2020 only).
interface NodeModules {
  fs: {
    mkdtempSync(prefix: string): string;
    writeFileSync(path: string, data: Uint8Array): void;
    rmSync(path: string, options: { recursive: boolean; force: boolean }): void;
  };
  os: { tmpdir(): string };
  childProcess: { execFileSync(file: string, args: string[], options: { encoding: 'utf8'; stdio?: unknown[] }): string };
}

/** Node's fs, os and child_process, or undefined where `process.getBuiltinModule` is missing (Node < 20.16). */
function nodeModules(): NodeModules | undefined {
  const host = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
  if (typeof host?.getBuiltinModule !== 'function') return undefined;
  const load = (id: string): unknown => host.getBuiltinModule!(id);
  return {
    fs: load('node:fs') as NodeModules['fs'],
    os: load('node:os') as NodeModules['os'],
    childProcess: load('node:child_process') as NodeModules['childProcess'],
  };
}

/** The tcpdump to use, or undefined when none is installed. */
function findTcpdump(node: NodeModules): string | undefined {
  for (const candidate of ['tcpdump', '/usr/sbin/tcpdump', '/usr/bin/tcpdump']) {
    try {
      node.childProcess.execFileSync(candidate, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** The Internet checksum of `bytes`. */
function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An ICMP echo request 10.9.0.1 -> 10.9.0.2 (id 0x1234, sequence 1, 8 bytes of data) with good checksums. */
function echoRequestFrame(): Uint8Array {
  const frame = hex(`
    ae4e3de401cd b2cfa08e521e 0800
    4500 0024 0001 4000 4001 0000 0a090001 0a090002
    0800 0000 1234 0001 6162636465666768
  `);
  const ipSum = checksum(frame.subarray(14, 34));
  frame[24] = ipSum >>> 8;
  frame[25] = ipSum & 0xff;
  const icmpSum = checksum(frame.subarray(34));
  frame[36] = icmpSum >>> 8;
  frame[37] = icmpSum & 0xff;
  return frame;
}

const ARP_REQUEST = hex(`
  ffffffffffff b2cfa08e521e 0806 0001 0800 0604 0001 b2cfa08e521e 0a090001 000000000000 0a090002
`);
const ARP_REPLY = hex(`
  b2cfa08e521e ae4e3de401cd 0806 0001 0800 0604 0002 ae4e3de401cd 0a090002 b2cfa08e521e 0a090001
`);

describe('PcapWriter and tcpdump', () => {
  it('writes a file tcpdump -r reads: frames, times and lengths', (context) => {
    const node = nodeModules();
    if (!node) {
      context.skip('process.getBuiltinModule is missing (Node < 20.16): cannot write the file for tcpdump');
      return;
    }
    const tcpdump = findTcpdump(node);
    if (!tcpdump) {
      context.skip('tcpdump is not installed (apt-get install -y tcpdump); the pcap layout tests above still ran');
      return;
    }
    const clock = new VirtualClock();
    const [a, b] = linkPair({ clock, latencyMs: 1.5, macA: ARP_REQUEST.slice(6, 12), macB: ARP_REPLY.slice(6, 12) });
    const writer = new PcapWriter();
    const tapped = writer.tap(a, clock);
    b.onReceive((frame) => {
      if (frame[12] === 0x08 && frame[13] === 0x06) b.transmit(ARP_REPLY);
    });
    clock.advance(1000);
    tapped.transmit(ARP_REQUEST);
    clock.advance(1000.25);
    tapped.transmit(echoRequestFrame());
    clock.runUntilIdle();
    writer.record(new Uint8Array(2000).fill(0xff), 3000); // longer than the MTU: a giant, still a record

    const directory = node.fs.mkdtempSync(`${node.os.tmpdir()}/uos-pcap-`);
    try {
      const path = `${directory}/capture.pcap`;
      node.fs.writeFileSync(path, writer.bytes());
      const output = node.childProcess.execFileSync(tcpdump, ['-r', path, '-n', '-tt', '-e', '-v'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines = output
        .trim()
        .split('\n')
        .filter((line) => /^\d/.test(line));
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(
        /^1\.000000 b2:cf:a0:8e:52:1e > ff:ff:ff:ff:ff:ff, ethertype ARP \(0x0806\), length 42: .*Request who-has 10\.9\.0\.2 tell 10\.9\.0\.1/,
      );
      expect(lines[1]).toMatch(
        /^1\.003000 ae:4e:3d:e4:01:cd > b2:cf:a0:8e:52:1e, ethertype ARP \(0x0806\), length 42: .*Reply 10\.9\.0\.2 is-at ae:4e:3d:e4:01:cd/,
      );
      expect(lines[2]).toMatch(/^2\.000250 b2:cf:a0:8e:52:1e > ae:4e:3d:e4:01:cd, ethertype IPv4 \(0x0800\), length 50: /);
      expect(output).toMatch(/10\.9\.0\.1 > 10\.9\.0\.2: ICMP echo request, id 4660, seq 1, length 16/);
      expect(output).not.toMatch(/bad cksum|wrong icmp cksum/);
      expect(lines[3]).toMatch(/^3\.000000 ff:ff:ff:ff:ff:ff > ff:ff:ff:ff:ff:ff, ethertype Unknown \(0xffff\), length 2000/);
    } finally {
      node.fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
