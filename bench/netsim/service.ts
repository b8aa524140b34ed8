import { os, profiler, service } from '@uos/kernel';
import { Inet, type TcpSocket } from '@uos/net';
import {
  type Collected,
  VirtualClock,
  collect,
  firstDifference,
  linkPair,
  patternBytes,
  runUntil,
  seededRandom,
  sendAll,
} from '@uos/net/test';
import { Statman } from '@uos/statman';

// A TCP transfer between two @uos/net stacks in one guest, 10.0.0.1 -> 10.0.0.2:9, over a simulated wire
// (linkPair: 1 ms latency, no fault injector) in virtual time: no NIC, no interrupts, so nearly every
// cycle is the stacks' own (the rest: the wire's queue and the virtual clock).
// Start arguments: the megabytes to move (default 2); `off` to leave the sampler off; `wait` to print
// `netsim: ready` once connected and start when a line arrives on the console (so the host can read its
// own clocks first). The transfer is a profiler window (`uos boot --profile` covers just it). Prints
// `netsim: {bytes, ms, dataSegments, ackSegments, ...}`, then `netsim: top [...]` (profiler.top), and
// exits 0 when the bytes arrived intact, 1 otherwise.
function transfer(megabytes: string, sampling: string): void {
  const bytes = Math.round(Number(megabytes) * 1e6);
  const clock = new VirtualClock();
  const statman = new Statman();
  const [wireA, wireB] = linkPair({ clock, latencyMs: 1, names: ['a0', 'b0'] });
  const a = new Inet(wireA, { clock, statman, random: seededRandom(3), configuration: { address: '10.0.0.1', prefixLength: 24 } });
  const b = new Inet(wireB, { clock, statman, random: seededRandom(4), configuration: { address: '10.0.0.2', prefixLength: 24 } });
  let received: Collected | undefined;
  b.tcp.listen(9, (connection: TcpSocket) => {
    received = collect(connection);
  });
  const start = a.tcp.connect('10.0.0.2', 9);
  if (!start.ok) throw new Error(`connect: ${start.error}`);
  runUntil(clock, () => received !== undefined && start.connection.state === 'established', 10_000);
  const data = patternBytes(bytes, 7);
  const before = statman.snapshot();
  if (sampling === 'on') profiler.start();
  const started = performance.now();
  sendAll(start.connection, data);
  runUntil(clock, () => received!.ended, 600_000);
  const ms = performance.now() - started;
  if (sampling === 'on') profiler.stop();
  const after = statman.snapshot();
  const delta = (name: string): number => (after[name] ?? 0) - (before[name] ?? 0);
  const dataSegments = delta('a0.tcp.segments_tx');
  const ackSegments = delta('b0.tcp.segments_tx');
  console.log(
    `netsim: ${JSON.stringify({
      bytes,
      ms: Math.round(ms),
      dataSegments,
      ackSegments,
      virtualMs: Math.round(clock.now()),
      usPerDataSegment: Math.round((ms * 1000) / dataSegments),
      mbytePerS: Math.round((bytes / 1e6 / (ms / 1000)) * 1000) / 1000,
      samples: sampling === 'on' ? profiler.status().samples : 0,
    })}`,
  );
  const intact = firstDifference(received!.data(), data) === -1;
  if (sampling === 'on') console.log(`netsim: top ${JSON.stringify(profiler.top(25))}`);
  console.log(`netsim: ${intact ? 'intact' : 'CORRUPTED'}`);
  os.exit(intact ? 0 : 1);
}

export default service({
  start([megabytes = '2', sampling = 'on', when = 'now']) {
    if (when !== 'wait') {
      transfer(megabytes, sampling);
      return;
    }
    console.log('netsim: ready');
    os.stdin.onData(() => transfer(megabytes, sampling));
  },
});
