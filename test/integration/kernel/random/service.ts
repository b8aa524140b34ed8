import { rng, service } from '@uos/kernel';

export default service({
  start() {
    const a = crypto.getRandomValues(new Uint8Array(32));
    const b = crypto.getRandomValues(new Uint8Array(32));
    const words = crypto.getRandomValues(new Uint32Array(1024));
    const hex = (bytes: Uint8Array) => Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join('');
    // 32 random bytes are all zero, or two draws equal, with probability 2^-256.
    console.log(`random: distinct ${hex(a) !== hex(b)}, zero ${a.every((x) => x === 0)}`);
    // Over 32768 random bits, the share of ones lies within 0.5 +- 0.02 except with negligible probability.
    let ones = 0;
    for (const w of words) for (let v = w; v; v &= v - 1) ones++;
    console.log(`random: ones ${(ones / (1024 * 32)).toFixed(2)}`);
    console.log(`random: uuid ${crypto.randomUUID()}`);
    console.log(`random: source ${rng.source}`);
    const refusals: string[] = [];
    try {
      crypto.getRandomValues(new Float64Array(4) as unknown as Uint8Array);
    } catch (error) {
      refusals.push((error as Error).name);
    }
    try {
      crypto.getRandomValues(new Uint8Array(65537));
    } catch (error) {
      refusals.push((error as Error).name);
    }
    console.log(`random: refused ${refusals.join(', ')}`);
  },
});
