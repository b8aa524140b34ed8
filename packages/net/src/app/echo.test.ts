/** The echo service: byte-exact under loss and reordering, with backpressure both ways. */
import { describe, expect, it } from 'vitest';
import { collect, createTestNetwork, firstDifference, patternBytes, runUntil, sendAll } from '../test/index.js';
import { echo } from './echo.js';

describe('echo', () => {
  it('echoes 2 MB byte-exact over a lossy, reordering wire, where chunks bigger than the send buffer arrive at once', () => {
    // Reordering makes the receive side hand over whole runs once a hole fills: one chunk can be larger
    // than the room in the send buffer, so echo must wait for room more than once for one chunk.
    const net = createTestNetwork({ faults: { drop: 0.03, reorder: 0.05 }, seed: 11, names: ['echo0a', 'echo0b'] });
    net.b.tcp.listen(7, echo, { sendBufferBytes: 16 * 1024 });
    const start = net.a.tcp.connect(net.b.address, 7);
    if (!start.ok) throw new Error(start.error);
    const client = start.connection;
    const got = collect(client);
    const data = patternBytes(2 * 1024 * 1024, 7);
    sendAll(client, data);
    runUntil(net.clock, () => got.ended, 3_600_000);
    expect(firstDifference(got.data(), data)).toBe(-1);
  }, 60_000);
});
