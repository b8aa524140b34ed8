import { profiler, service } from '@uos/kernel';
import { faults } from '@uos/x86';

/** Pure interpreter work: no calls inside the loop, so the samples land in this function itself. */
function hotLoop(iterations: number): number {
  let x = 0;
  for (let i = 0; i < iterations; i++) x = (x * 31 + i) % 1000003;
  return x;
}

/** A third of hotLoop's work. */
function coldLoop(iterations: number): number {
  let x = 0;
  for (let i = 0; i < iterations; i++) x = (x * 17 + i) % 999983;
  return x;
}

/** About `ms` of CPU, split 3:1 between hotLoop and coldLoop. */
function work(ms: number): number {
  const end = performance.now() + ms;
  let sum = 0;
  while (performance.now() < end) sum += hotLoop(3000) + coldLoop(1000);
  return sum;
}

// The profiler's integration test: `hot` reports profilerTop after a known workload (a window for
// `uos boot --profile`); `busy` just works (the whole run is the profile); `panic` and `fault` fail
// while the sampler runs fast, to show the reports stay the same.
export default service({
  start([mode = 'hot', ms = '1500']) {
    if (mode === 'busy') {
      console.log(`profiler: work ${work(Number(ms)) > 0}`);
      return;
    }
    if (mode === 'hot') {
      profiler.start();
      const sum = work(Number(ms));
      profiler.stop();
      console.log(`profiler: work ${sum > 0}`);
      console.log(`profiler: status ${JSON.stringify(profiler.status())}`);
      console.log(`profiler: top ${JSON.stringify(profiler.top(8))}`);
      return;
    }
    profiler.start({ hz: 10_000 });
    work(200);
    if (mode === 'fault') faults.trigger('null-pointer');
    throw new Error('failing while the sampler runs');
  },
});
