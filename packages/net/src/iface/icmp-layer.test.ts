/**
 * The ICMP layer's echo answer, taken straight from the request's bytes with its checksum adjusted
 * (RFC 1624): the reply must verify for any payload and identifier, and carry the request's data back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestNetwork } from '../test/netsim.js';

describe('ICMP echo', () => {
  it('answers echo requests of any size with replies whose checksums verify', async () => {
    const net = createTestNetwork();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1400 }), async (size) => {
        const before = net.a.icmp.stats.malformed.value;
        const reply = net.a.ping('10.0.0.2', { size });
        net.clock.advance(20);
        expect(await reply).toMatchObject({ ok: true, bytes: size });
        expect(net.a.icmp.stats.malformed.value).toBe(before);
      }),
      { numRuns: 60 },
    );
  });

  it('does not answer a request that arrives damaged', async () => {
    const net = createTestNetwork();
    const first = net.a.ping('10.0.0.2', { size: 64 });
    net.clock.advance(20);
    expect((await first).ok).toBe(true); // ARP resolved
    net.injector.configure({ corrupt: 1, corruptPayloadOnly: true });
    const reply = net.a.ping('10.0.0.2', { size: 64, timeoutMs: 100 });
    for (let i = 0; i < 20; i++) net.clock.advance(10);
    expect((await reply).ok).toBe(false);
    expect(net.b.icmp.stats.malformed.value + net.b.ip.stats.rx_bad_checksum.value).toBe(1);
    expect(net.b.icmp.stats.echo_replies_tx.value).toBe(1);
  });
});
