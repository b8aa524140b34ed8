/** ARP against senders it must not believe: group and all-zero MACs, and our own address from elsewhere. */
import { describe, expect, it } from 'vitest';
import { ipv4Address, macFromBytes } from '../wire/address.js';
import { ARP_LENGTH, emitArp } from '../wire/arp.js';
import { ETHERNET_HEADER_LENGTH, EtherTypeValue, emitEthernet } from '../wire/ethernet.js';
import { createTestNetwork } from '../test/index.js';

const ALICE = ipv4Address('10.0.0.1');
const BOB = ipv4Address('10.0.0.2');
let n = 0;

describe('ArpLayer', () => {
  it('neither learns nor answers a sender with a broadcast, multicast or all-zero MAC', () => {
    const net = createTestNetwork({ names: [`arp${n}a`, `arp${n++}b`] });
    const frameSource = macFromBytes(net.wire[0].mac);
    const request = (senderHardware: number, senderProtocol = ALICE): void => {
      const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + ARP_LENGTH);
      emitEthernet({ destination: 0xffffffffffff, source: frameSource, etherType: { kind: 'arp' } }, frame);
      emitArp(
        { operation: { kind: 'request' }, senderHardware, senderProtocol, targetHardware: 0, targetProtocol: BOB },
        frame.subarray(ETHERNET_HEADER_LENGTH),
      );
      net.wire[0].transmit(frame);
      net.clock.advance(5);
    };
    const answers: number[] = [];
    net.wire[0].onReceive((frame) => {
      // Replies only (bob announced itself with a request when configured).
      if (((frame[12]! << 8) | frame[13]!) === EtherTypeValue.arp && frame[21] === 2) answers.push(frame[21]);
    });
    for (const mac of [0xffffffffffff, 0x01005e0000fb, 0x333300000001, 0]) request(mac);
    expect(net.b.arp.lookup(ALICE)).toBeUndefined();
    expect(answers).toEqual([]);
    // Someone else claiming bob's own address is not learnt either.
    request(0x020000000077, BOB);
    expect(net.b.arp.lookup(BOB)).toBeUndefined();
    expect(net.b.arp.stats.invalid_sender.value).toBe(5);
    // A proper request is answered and learnt.
    request(frameSource);
    expect(net.b.arp.lookup(ALICE)).toBe(frameSource);
    expect(answers).toEqual([2]);
  });
});
