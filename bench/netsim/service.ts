import { os, profiler, service } from '@uos/kernel';
import type { TcpConnection } from '@uos/net';
import { type Collected, collect, createTestNetwork, firstDifference, patternBytes, runUntil, sendAll } from '@uos/net/test';

// A TCP transfer between two @uos/net stacks in one guest, 10.0.0.1 -> 10.0.0.2:9, over a simulated wire
// (1 ms latency, no faults) in virtual time: no NIC, no interrupts, so every cycle is the stacks' own.
// Start arguments: the megabytes to move (default 2), and `off` to leave the sampler off. The transfer is a
// profiler window (`uos boot --profile` covers just it). Prints `netsim: {bytes, ms, dataSegments, ackSegments, ...}`, then
// `netsim: top [...]` (profiler.top), and exits 0 when the bytes arrived intact, 1 otherwise.
export default service({
  start([megabytes = '2', sampling = 'on']) {
    const bytes = Math.round(Number(megabytes) * 1e6);
    const net = createTestNetwork({ seed: 1 });
    let received: Collected | undefined;
    net.b.tcp.listen(9, (connection: TcpConnection) => {
      received = collect(connection);
    });
    const start = net.a.tcp.connect('10.0.0.2', 9);
    if (!start.ok) throw new Error(`connect: ${start.error}`);
    runUntil(net.clock, () => received !== undefined && start.connection.state === 'established', 10_000);
    const data = patternBytes(bytes, 7);
    const before = net.statman.snapshot();
    if (sampling === 'on') profiler.start();
    const started = performance.now();
    sendAll(start.connection, data);
    runUntil(net.clock, () => received!.ended, 600_000);
    const ms = performance.now() - started;
    if (sampling === 'on') profiler.stop();
    const after = net.statman.snapshot();
    const delta = (name: string): number => (after[name] ?? 0) - (before[name] ?? 0);
    const dataSegments = delta('a0.tcp.segments_tx');
    const ackSegments = delta('b0.tcp.segments_tx');
    const intact = firstDifference(received!.data(), data) === -1;
    const status = profiler.status();
    console.log(
      `netsim: ${JSON.stringify({
        bytes,
        ms: Math.round(ms),
        intact,
        dataSegments,
        ackSegments,
        virtualMs: Math.round(net.clock.now()),
        usPerDataSegment: Math.round((ms * 1000) / dataSegments),
        mbytePerS: Math.round((bytes / 1e6 / (ms / 1000)) * 1000) / 1000,
        samples: status.samples,
      })}`,
    );
    console.log(`netsim: top ${JSON.stringify(profiler.top(25))}`);
    os.exit(intact ? 0 : 1);
  },
});
