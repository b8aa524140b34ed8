import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv4Address, ipv4FromNumber } from './address.js';
import { Icmpv4Packet, parseIcmpv4 } from './icmpv4.js';
import {
  IPV4_HEADER_LENGTH,
  type IpProtocol,
  Ipv4Packet,
  type Ipv4Repr,
  emitIpv4,
  ipProtocolOf,
  ipProtocolValue,
  parseIpv4,
} from './ipv4.js';
import { bytesFromTcpdump as hex, poisoned, unwrap } from '../test/wire-testing.js';

/*
 * Captures: two Linux network namespaces joined by a veth pair (MTU 1500, transmit checksum offload
 * turned off with ethtool so checksums are final), 10.9.0.1/24 and 10.9.0.2/24; `tcpdump -i <veth> -w`
 * on the 10.9.0.1 side while it ran `ping -c 2 -s 40`, `ping -c 1 -s 3000` (fragmented at 1500), sent
 * "hi\n" over UDP to port 5353 and a datagram to the closed port 9 (python3 socket); printed with
 * `tcpdump -r -xx`. Whole Ethernet frames; veth does not pad to 60 bytes.
 */

/** IP 10.9.0.1 > 10.9.0.2: ICMP echo request, id 17907, seq 1, length 48 (id 45047, DF) */
const ECHO_REQUEST_FRAME = hex(`
  0x0000:  ae4e 3de4 01cd b2cf a08e 521e 0800 4500
  0x0010:  0044 aff7 4000 4001 76ad 0a09 0001 0a09
  0x0020:  0002 0800 1eda 45f3 0001 e597 046b 0000
  0x0030:  0000 5edd 0500 0000 0000 1011 1213 1415
  0x0040:  1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
  0x0050:  2627
`);

/** IP 10.9.0.1.43182 > 10.9.0.2.5353: UDP, length 3 ("hi\n"; id 40094, DF): a 45-byte frame */
const UDP_FRAME = hex(`
  0x0000:  ae4e 3de4 01cd b2cf a08e 521e 0800 4500
  0x0010:  001f 9c9e 4000 4011 8a1b 0a09 0001 0a09
  0x0020:  0002 a8ae 14e9 000b bbc2 6869 0a
`);

/** IP 10.9.0.2 > 10.9.0.1: ICMP 10.9.0.2 udp port 9 unreachable (tos 0xc0, id 2442) */
const PORT_UNREACHABLE_FRAME = hex(`
  0x0000:  b2cf a08e 521e ae4e 3de4 01cd 0800 45c0
  0x0010:  004a 098a 0000 4001 5c55 0a09 0002 0a09
  0x0020:  0001 0303 113d 0000 0000 4500 002e 9cfb
  0x0030:  4000 4011 89af 0a09 0001 0a09 0002 b33d
  0x0040:  0009 001a b83b 6865 6c6c 6f20 636c 6f73
  0x0050:  6564 2070 6f72 740a
`);

/** IP 10.9.0.1 > 10.9.0.2: ICMP echo request, id 17908, seq 1, length 1480: the first fragment (id 45264, offset 0, MF) of `ping -s 3000` */
const FRAGMENT_1_FRAME = hex(`
  0x0000:  ae4e 3de4 01cd b2cf a08e 521e 0800 4500
  0x0010:  05dc b0d0 2000 4001 903c 0a09 0001 0a09
  0x0020:  0002 0800 0654 45f4 0001 e697 046b 0000
  0x0030:  0000 db05 0600 0000 0000 1011 1213 1415
  0x0040:  1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
  0x0050:  2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
  0x0060:  3637 3839 3a3b 3c3d 3e3f 4041 4243 4445
  0x0070:  4647 4849 4a4b 4c4d 4e4f 5051 5253 5455
  0x0080:  5657 5859 5a5b 5c5d 5e5f 6061 6263 6465
  0x0090:  6667 6869 6a6b 6c6d 6e6f 7071 7273 7475
  0x00a0:  7677 7879 7a7b 7c7d 7e7f 8081 8283 8485
  0x00b0:  8687 8889 8a8b 8c8d 8e8f 9091 9293 9495
  0x00c0:  9697 9899 9a9b 9c9d 9e9f a0a1 a2a3 a4a5
  0x00d0:  a6a7 a8a9 aaab acad aeaf b0b1 b2b3 b4b5
  0x00e0:  b6b7 b8b9 babb bcbd bebf c0c1 c2c3 c4c5
  0x00f0:  c6c7 c8c9 cacb cccd cecf d0d1 d2d3 d4d5
  0x0100:  d6d7 d8d9 dadb dcdd dedf e0e1 e2e3 e4e5
  0x0110:  e6e7 e8e9 eaeb eced eeef f0f1 f2f3 f4f5
  0x0120:  f6f7 f8f9 fafb fcfd feff 0001 0203 0405
  0x0130:  0607 0809 0a0b 0c0d 0e0f 1011 1213 1415
  0x0140:  1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
  0x0150:  2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
  0x0160:  3637 3839 3a3b 3c3d 3e3f 4041 4243 4445
  0x0170:  4647 4849 4a4b 4c4d 4e4f 5051 5253 5455
  0x0180:  5657 5859 5a5b 5c5d 5e5f 6061 6263 6465
  0x0190:  6667 6869 6a6b 6c6d 6e6f 7071 7273 7475
  0x01a0:  7677 7879 7a7b 7c7d 7e7f 8081 8283 8485
  0x01b0:  8687 8889 8a8b 8c8d 8e8f 9091 9293 9495
  0x01c0:  9697 9899 9a9b 9c9d 9e9f a0a1 a2a3 a4a5
  0x01d0:  a6a7 a8a9 aaab acad aeaf b0b1 b2b3 b4b5
  0x01e0:  b6b7 b8b9 babb bcbd bebf c0c1 c2c3 c4c5
  0x01f0:  c6c7 c8c9 cacb cccd cecf d0d1 d2d3 d4d5
  0x0200:  d6d7 d8d9 dadb dcdd dedf e0e1 e2e3 e4e5
  0x0210:  e6e7 e8e9 eaeb eced eeef f0f1 f2f3 f4f5
  0x0220:  f6f7 f8f9 fafb fcfd feff 0001 0203 0405
  0x0230:  0607 0809 0a0b 0c0d 0e0f 1011 1213 1415
  0x0240:  1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
  0x0250:  2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
  0x0260:  3637 3839 3a3b 3c3d 3e3f 4041 4243 4445
  0x0270:  4647 4849 4a4b 4c4d 4e4f 5051 5253 5455
  0x0280:  5657 5859 5a5b 5c5d 5e5f 6061 6263 6465
  0x0290:  6667 6869 6a6b 6c6d 6e6f 7071 7273 7475
  0x02a0:  7677 7879 7a7b 7c7d 7e7f 8081 8283 8485
  0x02b0:  8687 8889 8a8b 8c8d 8e8f 9091 9293 9495
  0x02c0:  9697 9899 9a9b 9c9d 9e9f a0a1 a2a3 a4a5
  0x02d0:  a6a7 a8a9 aaab acad aeaf b0b1 b2b3 b4b5
  0x02e0:  b6b7 b8b9 babb bcbd bebf c0c1 c2c3 c4c5
  0x02f0:  c6c7 c8c9 cacb cccd cecf d0d1 d2d3 d4d5
  0x0300:  d6d7 d8d9 dadb dcdd dedf e0e1 e2e3 e4e5
  0x0310:  e6e7 e8e9 eaeb eced eeef f0f1 f2f3 f4f5
  0x0320:  f6f7 f8f9 fafb fcfd feff 0001 0203 0405
  0x0330:  0607 0809 0a0b 0c0d 0e0f 1011 1213 1415
  0x0340:  1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
  0x0350:  2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
  0x0360:  3637 3839 3a3b 3c3d 3e3f 4041 4243 4445
  0x0370:  4647 4849 4a4b 4c4d 4e4f 5051 5253 5455
  0x0380:  5657 5859 5a5b 5c5d 5e5f 6061 6263 6465
  0x0390:  6667 6869 6a6b 6c6d 6e6f 7071 7273 7475
  0x03a0:  7677 7879 7a7b 7c7d 7e7f 8081 8283 8485
  0x03b0:  8687 8889 8a8b 8c8d 8e8f 9091 9293 9495
  0x03c0:  9697 9899 9a9b 9c9d 9e9f a0a1 a2a3 a4a5
  0x03d0:  a6a7 a8a9 aaab acad aeaf b0b1 b2b3 b4b5
  0x03e0:  b6b7 b8b9 babb bcbd bebf c0c1 c2c3 c4c5
  0x03f0:  c6c7 c8c9 cacb cccd cecf d0d1 d2d3 d4d5
  0x0400:  d6d7 d8d9 dadb dcdd dedf e0e1 e2e3 e4e5
  0x0410:  e6e7 e8e9 eaeb eced eeef f0f1 f2f3 f4f5
  0x0420:  f6f7 f8f9 fafb fcfd feff 0001 0203 0405
  0x0430:  0607 0809 0a0b 0c0d 0e0f 1011 1213 1415
  0x0440:  1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
  0x0450:  2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
  0x0460:  3637 3839 3a3b 3c3d 3e3f 4041 4243 4445
  0x0470:  4647 4849 4a4b 4c4d 4e4f 5051 5253 5455
  0x0480:  5657 5859 5a5b 5c5d 5e5f 6061 6263 6465
  0x0490:  6667 6869 6a6b 6c6d 6e6f 7071 7273 7475
  0x04a0:  7677 7879 7a7b 7c7d 7e7f 8081 8283 8485
  0x04b0:  8687 8889 8a8b 8c8d 8e8f 9091 9293 9495
  0x04c0:  9697 9899 9a9b 9c9d 9e9f a0a1 a2a3 a4a5
  0x04d0:  a6a7 a8a9 aaab acad aeaf b0b1 b2b3 b4b5
  0x04e0:  b6b7 b8b9 babb bcbd bebf c0c1 c2c3 c4c5
  0x04f0:  c6c7 c8c9 cacb cccd cecf d0d1 d2d3 d4d5
  0x0500:  d6d7 d8d9 dadb dcdd dedf e0e1 e2e3 e4e5
  0x0510:  e6e7 e8e9 eaeb eced eeef f0f1 f2f3 f4f5
  0x0520:  f6f7 f8f9 fafb fcfd feff 0001 0203 0405
  0x0530:  0607 0809 0a0b 0c0d 0e0f 1011 1213 1415
  0x0540:  1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
  0x0550:  2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
  0x0560:  3637 3839 3a3b 3c3d 3e3f 4041 4243 4445
  0x0570:  4647 4849 4a4b 4c4d 4e4f 5051 5253 5455
  0x0580:  5657 5859 5a5b 5c5d 5e5f 6061 6263 6465
  0x0590:  6667 6869 6a6b 6c6d 6e6f 7071 7273 7475
  0x05a0:  7677 7879 7a7b 7c7d 7e7f 8081 8283 8485
  0x05b0:  8687 8889 8a8b 8c8d 8e8f 9091 9293 9495
  0x05c0:  9697 9899 9a9b 9c9d 9e9f a0a1 a2a3 a4a5
  0x05d0:  a6a7 a8a9 aaab acad aeaf b0b1 b2b3 b4b5
  0x05e0:  b6b7 b8b9 babb bcbd bebf
`);

/** The second fragment: offset 1480, MF */
const FRAGMENT_2_FRAME = hex(`
  0x0000:  ae4e 3de4 01cd b2cf a08e 521e 0800 4500
  0x0010:  05dc b0d0 20b9 4001 8f83 0a09 0001 0a09
  0x0020:  0002 c0c1 c2c3 c4c5 c6c7 c8c9 cacb cccd
  0x0030:  cecf d0d1 d2d3 d4d5 d6d7 d8d9 dadb dcdd
  0x0040:  dedf e0e1 e2e3 e4e5 e6e7 e8e9 eaeb eced
  0x0050:  eeef f0f1 f2f3 f4f5 f6f7 f8f9 fafb fcfd
  0x0060:  feff 0001 0203 0405 0607 0809 0a0b 0c0d
  0x0070:  0e0f 1011 1213 1415 1617 1819 1a1b 1c1d
  0x0080:  1e1f 2021 2223 2425 2627 2829 2a2b 2c2d
  0x0090:  2e2f 3031 3233 3435 3637 3839 3a3b 3c3d
  0x00a0:  3e3f 4041 4243 4445 4647 4849 4a4b 4c4d
  0x00b0:  4e4f 5051 5253 5455 5657 5859 5a5b 5c5d
  0x00c0:  5e5f 6061 6263 6465 6667 6869 6a6b 6c6d
  0x00d0:  6e6f 7071 7273 7475 7677 7879 7a7b 7c7d
  0x00e0:  7e7f 8081 8283 8485 8687 8889 8a8b 8c8d
  0x00f0:  8e8f 9091 9293 9495 9697 9899 9a9b 9c9d
  0x0100:  9e9f a0a1 a2a3 a4a5 a6a7 a8a9 aaab acad
  0x0110:  aeaf b0b1 b2b3 b4b5 b6b7 b8b9 babb bcbd
  0x0120:  bebf c0c1 c2c3 c4c5 c6c7 c8c9 cacb cccd
  0x0130:  cecf d0d1 d2d3 d4d5 d6d7 d8d9 dadb dcdd
  0x0140:  dedf e0e1 e2e3 e4e5 e6e7 e8e9 eaeb eced
  0x0150:  eeef f0f1 f2f3 f4f5 f6f7 f8f9 fafb fcfd
  0x0160:  feff 0001 0203 0405 0607 0809 0a0b 0c0d
  0x0170:  0e0f 1011 1213 1415 1617 1819 1a1b 1c1d
  0x0180:  1e1f 2021 2223 2425 2627 2829 2a2b 2c2d
  0x0190:  2e2f 3031 3233 3435 3637 3839 3a3b 3c3d
  0x01a0:  3e3f 4041 4243 4445 4647 4849 4a4b 4c4d
  0x01b0:  4e4f 5051 5253 5455 5657 5859 5a5b 5c5d
  0x01c0:  5e5f 6061 6263 6465 6667 6869 6a6b 6c6d
  0x01d0:  6e6f 7071 7273 7475 7677 7879 7a7b 7c7d
  0x01e0:  7e7f 8081 8283 8485 8687 8889 8a8b 8c8d
  0x01f0:  8e8f 9091 9293 9495 9697 9899 9a9b 9c9d
  0x0200:  9e9f a0a1 a2a3 a4a5 a6a7 a8a9 aaab acad
  0x0210:  aeaf b0b1 b2b3 b4b5 b6b7 b8b9 babb bcbd
  0x0220:  bebf c0c1 c2c3 c4c5 c6c7 c8c9 cacb cccd
  0x0230:  cecf d0d1 d2d3 d4d5 d6d7 d8d9 dadb dcdd
  0x0240:  dedf e0e1 e2e3 e4e5 e6e7 e8e9 eaeb eced
  0x0250:  eeef f0f1 f2f3 f4f5 f6f7 f8f9 fafb fcfd
  0x0260:  feff 0001 0203 0405 0607 0809 0a0b 0c0d
  0x0270:  0e0f 1011 1213 1415 1617 1819 1a1b 1c1d
  0x0280:  1e1f 2021 2223 2425 2627 2829 2a2b 2c2d
  0x0290:  2e2f 3031 3233 3435 3637 3839 3a3b 3c3d
  0x02a0:  3e3f 4041 4243 4445 4647 4849 4a4b 4c4d
  0x02b0:  4e4f 5051 5253 5455 5657 5859 5a5b 5c5d
  0x02c0:  5e5f 6061 6263 6465 6667 6869 6a6b 6c6d
  0x02d0:  6e6f 7071 7273 7475 7677 7879 7a7b 7c7d
  0x02e0:  7e7f 8081 8283 8485 8687 8889 8a8b 8c8d
  0x02f0:  8e8f 9091 9293 9495 9697 9899 9a9b 9c9d
  0x0300:  9e9f a0a1 a2a3 a4a5 a6a7 a8a9 aaab acad
  0x0310:  aeaf b0b1 b2b3 b4b5 b6b7 b8b9 babb bcbd
  0x0320:  bebf c0c1 c2c3 c4c5 c6c7 c8c9 cacb cccd
  0x0330:  cecf d0d1 d2d3 d4d5 d6d7 d8d9 dadb dcdd
  0x0340:  dedf e0e1 e2e3 e4e5 e6e7 e8e9 eaeb eced
  0x0350:  eeef f0f1 f2f3 f4f5 f6f7 f8f9 fafb fcfd
  0x0360:  feff 0001 0203 0405 0607 0809 0a0b 0c0d
  0x0370:  0e0f 1011 1213 1415 1617 1819 1a1b 1c1d
  0x0380:  1e1f 2021 2223 2425 2627 2829 2a2b 2c2d
  0x0390:  2e2f 3031 3233 3435 3637 3839 3a3b 3c3d
  0x03a0:  3e3f 4041 4243 4445 4647 4849 4a4b 4c4d
  0x03b0:  4e4f 5051 5253 5455 5657 5859 5a5b 5c5d
  0x03c0:  5e5f 6061 6263 6465 6667 6869 6a6b 6c6d
  0x03d0:  6e6f 7071 7273 7475 7677 7879 7a7b 7c7d
  0x03e0:  7e7f 8081 8283 8485 8687 8889 8a8b 8c8d
  0x03f0:  8e8f 9091 9293 9495 9697 9899 9a9b 9c9d
  0x0400:  9e9f a0a1 a2a3 a4a5 a6a7 a8a9 aaab acad
  0x0410:  aeaf b0b1 b2b3 b4b5 b6b7 b8b9 babb bcbd
  0x0420:  bebf c0c1 c2c3 c4c5 c6c7 c8c9 cacb cccd
  0x0430:  cecf d0d1 d2d3 d4d5 d6d7 d8d9 dadb dcdd
  0x0440:  dedf e0e1 e2e3 e4e5 e6e7 e8e9 eaeb eced
  0x0450:  eeef f0f1 f2f3 f4f5 f6f7 f8f9 fafb fcfd
  0x0460:  feff 0001 0203 0405 0607 0809 0a0b 0c0d
  0x0470:  0e0f 1011 1213 1415 1617 1819 1a1b 1c1d
  0x0480:  1e1f 2021 2223 2425 2627 2829 2a2b 2c2d
  0x0490:  2e2f 3031 3233 3435 3637 3839 3a3b 3c3d
  0x04a0:  3e3f 4041 4243 4445 4647 4849 4a4b 4c4d
  0x04b0:  4e4f 5051 5253 5455 5657 5859 5a5b 5c5d
  0x04c0:  5e5f 6061 6263 6465 6667 6869 6a6b 6c6d
  0x04d0:  6e6f 7071 7273 7475 7677 7879 7a7b 7c7d
  0x04e0:  7e7f 8081 8283 8485 8687 8889 8a8b 8c8d
  0x04f0:  8e8f 9091 9293 9495 9697 9899 9a9b 9c9d
  0x0500:  9e9f a0a1 a2a3 a4a5 a6a7 a8a9 aaab acad
  0x0510:  aeaf b0b1 b2b3 b4b5 b6b7 b8b9 babb bcbd
  0x0520:  bebf c0c1 c2c3 c4c5 c6c7 c8c9 cacb cccd
  0x0530:  cecf d0d1 d2d3 d4d5 d6d7 d8d9 dadb dcdd
  0x0540:  dedf e0e1 e2e3 e4e5 e6e7 e8e9 eaeb eced
  0x0550:  eeef f0f1 f2f3 f4f5 f6f7 f8f9 fafb fcfd
  0x0560:  feff 0001 0203 0405 0607 0809 0a0b 0c0d
  0x0570:  0e0f 1011 1213 1415 1617 1819 1a1b 1c1d
  0x0580:  1e1f 2021 2223 2425 2627 2829 2a2b 2c2d
  0x0590:  2e2f 3031 3233 3435 3637 3839 3a3b 3c3d
  0x05a0:  3e3f 4041 4243 4445 4647 4849 4a4b 4c4d
  0x05b0:  4e4f 5051 5253 5455 5657 5859 5a5b 5c5d
  0x05c0:  5e5f 6061 6263 6465 6667 6869 6a6b 6c6d
  0x05d0:  6e6f 7071 7273 7475 7677 7879 7a7b 7c7d
  0x05e0:  7e7f 8081 8283 8485 8687
`);

/** The last fragment: offset 2960, no MF, 48 bytes */
const FRAGMENT_3_FRAME = hex(`
  0x0000:  ae4e 3de4 01cd b2cf a08e 521e 0800 4500
  0x0010:  0044 b0d0 0172 4001 b462 0a09 0001 0a09
  0x0020:  0002 8889 8a8b 8c8d 8e8f 9091 9293 9495
  0x0030:  9697 9899 9a9b 9c9d 9e9f a0a1 a2a3 a4a5
  0x0040:  a6a7 a8a9 aaab acad aeaf b0b1 b2b3 b4b5
  0x0050:  b6b7
`);

const ECHO_REQUEST = ECHO_REQUEST_FRAME.subarray(14);
const UDP = UDP_FRAME.subarray(14);
const PORT_UNREACHABLE = PORT_UNREACHABLE_FRAME.subarray(14);
const FRAGMENTS = [FRAGMENT_1_FRAME, FRAGMENT_2_FRAME, FRAGMENT_3_FRAME].map((frame) => frame.subarray(14));
const CAPTURED = [ECHO_REQUEST, UDP, PORT_UNREACHABLE, ...FRAGMENTS];

const A = ipv4Address('10.9.0.1');
const B = ipv4Address('10.9.0.2');

const ECHO_REQUEST_REPR: Ipv4Repr = {
  source: A,
  destination: B,
  protocol: { kind: 'icmp' },
  ttl: 64,
  payloadLength: 48,
  identification: 45047,
  dontFragment: true,
  moreFragments: false,
  fragmentOffset: 0,
  dscp: 0,
  ecn: 0,
};
const PORT_UNREACHABLE_REPR: Ipv4Repr = {
  source: B,
  destination: A,
  protocol: { kind: 'icmp' },
  ttl: 64,
  payloadLength: 54,
  identification: 2442,
  dontFragment: false,
  moreFragments: false,
  fragmentOffset: 0,
  dscp: 48,
  ecn: 0,
};
const UDP_REPR: Ipv4Repr = {
  source: A,
  destination: B,
  protocol: { kind: 'udp' },
  ttl: 64,
  payloadLength: 11,
  identification: 40094,
  dontFragment: true,
  moreFragments: false,
  fragmentOffset: 0,
  dscp: 0,
  ecn: 0,
};
const FRAGMENT_REPRS: Ipv4Repr[] = [
  {
    source: A,
    destination: B,
    protocol: { kind: 'icmp' },
    ttl: 64,
    payloadLength: 1480,
    identification: 45264,
    dontFragment: false,
    moreFragments: true,
    fragmentOffset: 0,
    dscp: 0,
    ecn: 0,
  },
  {
    source: A,
    destination: B,
    protocol: { kind: 'icmp' },
    ttl: 64,
    payloadLength: 1480,
    identification: 45264,
    dontFragment: false,
    moreFragments: true,
    fragmentOffset: 1480,
    dscp: 0,
    ecn: 0,
  },
  {
    source: A,
    destination: B,
    protocol: { kind: 'icmp' },
    ttl: 64,
    payloadLength: 48,
    identification: 45264,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 2960,
    dscp: 0,
    ecn: 0,
  },
];

function packetOf(bytes: Uint8Array): Ipv4Packet {
  return unwrap(Ipv4Packet.checked(bytes));
}

function reprOf(bytes: Uint8Array): Ipv4Repr {
  return unwrap(parseIpv4(packetOf(bytes)));
}

/** Rewrites the header checksum after a deliberate change. */
function fixChecksum(bytes: Uint8Array): Uint8Array {
  bytes[10] = 0;
  bytes[11] = 0;
  const headerLength = (bytes[0]! & 0x0f) * 4;
  let sum = 0;
  for (let i = 0; i < headerLength; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  bytes[10] = (~sum >> 8) & 0xff;
  bytes[11] = ~sum & 0xff;
  return bytes;
}

describe('IPv4', () => {
  it('deconstructs a captured echo request', () => {
    const packet = packetOf(ECHO_REQUEST);
    expect(packet.version).toBe(4);
    expect(packet.headerLength).toBe(20);
    expect(packet.dscp).toBe(0);
    expect(packet.ecn).toBe(0);
    expect(packet.totalLength).toBe(68);
    expect(packet.identification).toBe(45047);
    expect(packet.dontFragment).toBe(true);
    expect(packet.moreFragments).toBe(false);
    expect(packet.fragmentOffset).toBe(0);
    expect(packet.ttl).toBe(64);
    expect(packet.protocol).toBe(1);
    expect(packet.checksum).toBe(0x76ad);
    expect(packet.source).toBe(A);
    expect(packet.destination).toBe(B);
    expect(packet.options.length).toBe(0);
    expect(packet.payload.length).toBe(48);
    expect(packet.payload[0]).toBe(8); // the ICMP echo request type
    expect(packet.verifyChecksum()).toBe(true);
    expect(packet.bytes).toBe(ECHO_REQUEST);
  });

  it('reads DSCP and ECN from a captured port unreachable (tos 0xc0: network control)', () => {
    const packet = packetOf(PORT_UNREACHABLE);
    expect(packet.dscp).toBe(48);
    expect(packet.ecn).toBe(0);
    expect(packet.dontFragment).toBe(false);
    expect(packet.verifyChecksum()).toBe(true);
  });

  it('reads the fragment fields of the captured fragments', () => {
    const [first, second, last] = FRAGMENTS.map(packetOf) as [Ipv4Packet, Ipv4Packet, Ipv4Packet];
    expect([first.moreFragments, first.fragmentOffset, first.totalLength]).toEqual([true, 0, 1500]);
    expect([second.moreFragments, second.fragmentOffset, second.totalLength]).toEqual([true, 1480, 1500]);
    expect([last.moreFragments, last.fragmentOffset, last.totalLength]).toEqual([false, 2960, 68]);
    for (const fragment of [first, second, last]) {
      expect(fragment.identification).toBe(45264);
      expect(fragment.dontFragment).toBe(false);
      expect(fragment.verifyChecksum()).toBe(true);
    }
  });

  it('reassembles the captured fragments into the echo request that was sent', () => {
    const whole = new Uint8Array(3008);
    for (const fragment of FRAGMENTS.map(packetOf)) whole.set(fragment.payload, fragment.fragmentOffset);
    const icmp = Icmpv4Packet.checked(whole);
    expect(icmp.ok).toBe(true);
    if (!icmp.ok) return;
    const message = parseIcmpv4(icmp.value);
    expect(message).toMatchObject({ ok: true, value: { kind: 'echo-request', identifier: 17908, sequence: 1 } });
    if (message.ok && message.value.kind === 'echo-request') expect(message.value.data.length).toBe(3000);
  });

  it('parses to reprs', () => {
    expect(reprOf(ECHO_REQUEST)).toEqual(ECHO_REQUEST_REPR);
    expect(reprOf(PORT_UNREACHABLE)).toEqual(PORT_UNREACHABLE_REPR);
    expect(reprOf(UDP)).toEqual(UDP_REPR);
    expect(FRAGMENTS.map(reprOf)).toEqual(FRAGMENT_REPRS);
  });

  it.each([
    ['echo request', ECHO_REQUEST_REPR, ECHO_REQUEST],
    ['port unreachable', PORT_UNREACHABLE_REPR, PORT_UNREACHABLE],
    ['UDP datagram', UDP_REPR, UDP],
    ['first fragment', FRAGMENT_REPRS[0]!, FRAGMENTS[0]!],
    ['second fragment', FRAGMENT_REPRS[1]!, FRAGMENTS[1]!],
    ['last fragment', FRAGMENT_REPRS[2]!, FRAGMENTS[2]!],
  ])('constructs the captured %s header byte for byte into a poisoned buffer', (_name, repr, captured) => {
    const buffer = poisoned(IPV4_HEADER_LENGTH + 4);
    expect(emitIpv4(repr, buffer)).toBe(IPV4_HEADER_LENGTH);
    expect(Array.from(buffer.subarray(0, IPV4_HEADER_LENGTH))).toEqual(Array.from(captured.subarray(0, IPV4_HEADER_LENGTH)));
    expect(Array.from(buffer.subarray(IPV4_HEADER_LENGTH))).toEqual([0xa5, 0xa5, 0xa5, 0xa5]); // the payload is not touched
  });

  it('emits absent optional fields as zero', () => {
    const buffer = poisoned(IPV4_HEADER_LENGTH + 8);
    emitIpv4({ source: A, destination: B, protocol: { kind: 'tcp' }, ttl: 1, payloadLength: 8 }, buffer);
    expect(reprOf(buffer)).toEqual({
      source: A,
      destination: B,
      protocol: { kind: 'tcp' },
      ttl: 1,
      payloadLength: 8,
      identification: 0,
      dontFragment: false,
      moreFragments: false,
      fragmentOffset: 0,
      dscp: 0,
      ecn: 0,
    });
  });

  it('refuses a flipped byte with kind checksum, unless verification is off', () => {
    for (let at = 0; at < IPV4_HEADER_LENGTH; at++) {
      if (at === 0 || at === 2 || at === 3) continue; // version, IHL and total length fail `checked` first
      const bytes = Uint8Array.from(ECHO_REQUEST);
      bytes[at] = bytes[at]! ^ 0x10;
      const packet = packetOf(bytes);
      expect(packet.verifyChecksum()).toBe(false);
      expect(parseIpv4(packet)).toMatchObject({ ok: false, error: { kind: 'checksum' } });
      expect(parseIpv4(packet, { verifyChecksum: false }).ok).toBe(true);
    }
    const ttl = Uint8Array.from(ECHO_REQUEST);
    ttl[8] = 63;
    expect(parseIpv4(packetOf(ttl), { verifyChecksum: false })).toEqual({ ok: true, value: { ...ECHO_REQUEST_REPR, ttl: 63 } });
    expect(parseIpv4(packetOf(ttl), { verifyChecksum: true })).toMatchObject({ ok: false, error: { kind: 'checksum' } });
  });

  it('ignores Ethernet padding after the total length', () => {
    // The captured 45-byte frame as a real NIC sends it: zero-padded to the 60-byte minimum.
    const padded = new Uint8Array(60 - 14);
    padded.set(UDP);
    const packet = packetOf(padded);
    expect(packet.totalLength).toBe(31);
    expect(Array.from(packet.payload)).toEqual(Array.from(UDP.subarray(20)));
    expect(reprOf(padded)).toEqual(UDP_REPR);
  });

  it('refuses every length under 20 as truncated', () => {
    for (let length = 0; length < IPV4_HEADER_LENGTH; length++) {
      expect(Ipv4Packet.checked(ECHO_REQUEST.subarray(0, length))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    }
  });

  it('refuses impossible lengths', () => {
    const withFirst = (first: number) => {
      const b = Uint8Array.from(ECHO_REQUEST);
      b[0] = first;
      return b;
    };
    const withTotal = (total: number) => {
      const b = Uint8Array.from(ECHO_REQUEST);
      b[2] = total >> 8;
      b[3] = total & 0xff;
      return b;
    };
    for (let ihl = 0; ihl < 5; ihl++)
      expect(Ipv4Packet.checked(withFirst(0x40 | ihl))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    expect(Ipv4Packet.checked(withFirst(0x4f).subarray(0, 59))).toMatchObject({ ok: false, error: { kind: 'truncated' } }); // a 60-byte header in 59 bytes
    expect(Ipv4Packet.checked(withFirst(0x65))).toMatchObject({ ok: false, error: { kind: 'malformed' } }); // version 6
    for (const total of [0, 1, 19]) expect(Ipv4Packet.checked(withTotal(total))).toMatchObject({ ok: false, error: { kind: 'malformed' } });
    expect(Ipv4Packet.checked(withTotal(20)).ok).toBe(true);
    expect(Ipv4Packet.checked(withTotal(69))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    expect(Ipv4Packet.checked(withTotal(0xffff))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    expect(Ipv4Packet.checked(ECHO_REQUEST.subarray(0, 67))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
  });

  it('skips options: they are in `options`, not in the payload or the repr', () => {
    // The captured echo request with a Router Alert option (RFC 2113) inserted: IHL 6.
    const bytes = new Uint8Array(ECHO_REQUEST.length + 4);
    bytes.set(ECHO_REQUEST.subarray(0, 20));
    bytes.set([0x94, 0x04, 0x00, 0x00], 20);
    bytes.set(ECHO_REQUEST.subarray(20), 24);
    bytes[0] = 0x46;
    bytes[3] = 72;
    fixChecksum(bytes);
    const packet = packetOf(bytes);
    expect(packet.headerLength).toBe(24);
    expect(Array.from(packet.options)).toEqual([0x94, 0x04, 0x00, 0x00]);
    expect(Array.from(packet.payload)).toEqual(Array.from(ECHO_REQUEST.subarray(20)));
    expect(packet.verifyChecksum()).toBe(true);
    expect(reprOf(bytes)).toEqual(ECHO_REQUEST_REPR);
  });

  it('keeps an unknown protocol as data, and emits it back', () => {
    const sctp = Uint8Array.from(ECHO_REQUEST);
    sctp[9] = 132;
    fixChecksum(sctp);
    const repr = reprOf(sctp);
    expect(repr.protocol).toEqual({ kind: 'unknown', value: 132 });
    const buffer = poisoned(IPV4_HEADER_LENGTH);
    emitIpv4(repr, buffer);
    expect(Array.from(buffer)).toEqual(Array.from(sctp.subarray(0, IPV4_HEADER_LENGTH)));
  });

  it('maps protocol numbers both ways', () => {
    expect([1, 6, 17, 0, 255].map(ipProtocolOf)).toEqual([
      { kind: 'icmp' },
      { kind: 'tcp' },
      { kind: 'udp' },
      { kind: 'unknown', value: 0 },
      { kind: 'unknown', value: 255 },
    ]);
    const protocols: IpProtocol[] = [{ kind: 'icmp' }, { kind: 'tcp' }, { kind: 'udp' }, { kind: 'unknown', value: 41 }];
    expect(protocols.map(ipProtocolValue)).toEqual([1, 6, 17, 41]);
  });

  describe('properties', () => {
    const exercise = (bytes: Uint8Array) => {
      const result = Ipv4Packet.checked(bytes);
      if (!result.ok) return;
      const p = result.value;
      void [
        p.version,
        p.headerLength,
        p.dscp,
        p.ecn,
        p.totalLength,
        p.identification,
        p.dontFragment,
        p.moreFragments,
        p.fragmentOffset,
        p.ttl,
        p.protocol,
        p.checksum,
        p.source,
        p.destination,
        p.options,
        p.payload,
        p.verifyChecksum(),
      ];
      expect(p.payload.length).toBe(p.totalLength - p.headerLength);
      expect(p.options.length).toBe(p.headerLength - IPV4_HEADER_LENGTH);
      parseIpv4(p);
      parseIpv4(p, { verifyChecksum: false });
    };

    it('never throws on random bytes', () => {
      const ipLike = fc
        .tuple(fc.integer({ min: 0x40, max: 0x4f }), fc.uint8Array({ maxLength: 80 }))
        .map(([first, rest]) => Uint8Array.from([first, ...rest]));
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), ipLike), (bytes) => {
          exercise(bytes);
        }),
      );
    });

    it('never throws on mutated captured packets', () => {
      const mutated = fc
        .tuple(
          fc.constantFrom(...CAPTURED),
          fc.array(fc.tuple(fc.nat(IPV4_HEADER_LENGTH + 7), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
          fc.nat(100),
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
      );
    });

    it('emit then parse gives the repr back', () => {
      const protocol = fc.integer({ min: 0, max: 255 }).map(ipProtocolOf);
      const repr = fc.record({
        source: fc.nat({ max: 0xffffffff }).map(ipv4FromNumber),
        destination: fc.nat({ max: 0xffffffff }).map(ipv4FromNumber),
        protocol,
        ttl: fc.integer({ min: 0, max: 255 }),
        payloadLength: fc.integer({ min: 0, max: 0xffff - IPV4_HEADER_LENGTH }),
        identification: fc.integer({ min: 0, max: 0xffff }),
        dontFragment: fc.boolean(),
        moreFragments: fc.boolean(),
        fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((units) => units * 8),
        dscp: fc.integer({ min: 0, max: 63 }),
        ecn: fc.integer({ min: 0, max: 3 }),
      });
      fc.assert(
        fc.property(repr, (r) => {
          const buffer = new Uint8Array(IPV4_HEADER_LENGTH + r.payloadLength);
          expect(emitIpv4(r, buffer)).toBe(IPV4_HEADER_LENGTH);
          expect(reprOf(buffer)).toEqual(r);
        }),
      );
    });
  });
});
