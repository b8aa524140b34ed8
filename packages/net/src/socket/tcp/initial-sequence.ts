import type { RandomSource } from '../../clock.js';
import { type IpAddress, foldIpAddress } from '../../wire/address.js';

/**
 * Initial sequence numbers per RFC 6528: ISN = M + F(local address, local port, remote address, remote
 * port, secret), M a clock ticking every 4 microseconds, F a keyed pseudo-random function: here eight
 * rounds of the ChaCha permutation over the 4-tuple and a 256-bit secret drawn at start.
 */
const rotate = (v: number, n: number): number => ((v << n) | (v >>> (32 - n))) >>> 0;

function quarter(x: Uint32Array, a: number, b: number, c: number, d: number): void {
  x[a] = (x[a]! + x[b]!) >>> 0;
  x[d] = rotate(x[d]! ^ x[a]!, 16);
  x[c] = (x[c]! + x[d]!) >>> 0;
  x[b] = rotate(x[b]! ^ x[c]!, 12);
  x[a] = (x[a]! + x[b]!) >>> 0;
  x[d] = rotate(x[d]! ^ x[a]!, 8);
  x[c] = (x[c]! + x[d]!) >>> 0;
  x[b] = rotate(x[b]! ^ x[c]!, 7);
}

export class InitialSequence {
  private readonly key = new Uint32Array(8);
  private readonly state = new Uint32Array(16);

  constructor(
    random: RandomSource,
    private readonly now: () => number,
  ) {
    for (let i = 0; i < 8; i++) this.key[i] = random.uint32();
  }

  /** The ISN for a connection between these endpoints (IPv6 addresses folded to 32 bits each). */
  next(localAddress: IpAddress, localPort: number, remoteAddress: IpAddress, remotePort: number): number {
    const x = this.state;
    x[0] = 0x61707865;
    x[1] = 0x3320646e;
    x[2] = 0x79622d32;
    x[3] = 0x6b206574;
    x.set(this.key, 4);
    x[12] = foldIpAddress(localAddress);
    x[13] = foldIpAddress(remoteAddress);
    x[14] = ((localPort << 16) | remotePort) >>> 0;
    x[15] = 0;
    for (let round = 0; round < 4; round++) {
      quarter(x, 0, 4, 8, 12);
      quarter(x, 1, 5, 9, 13);
      quarter(x, 2, 6, 10, 14);
      quarter(x, 3, 7, 11, 15);
      quarter(x, 0, 5, 10, 15);
      quarter(x, 1, 6, 11, 12);
      quarter(x, 2, 7, 8, 13);
      quarter(x, 3, 4, 9, 14);
    }
    const f = (x[0]! + 0x61707865) >>> 0;
    const m = Math.floor(this.now() * 250) >>> 0; // 4 µs ticks
    return (m + f) >>> 0;
  }
}
