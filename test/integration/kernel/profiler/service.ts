import { os, profiler, service } from '@uos/kernel';
import { faults, native } from '@uos/x86';

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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const timerInterrupts = (): number => native().irqCounts()[48]!;

/** Timer interrupts and loop wake-ups during `ms` of idling. */
async function idle(ms: number): Promise<{ interrupts: number; wakeups: number }> {
  const interrupts = timerInterrupts();
  const wakeups = os.cpuStats().wakeups;
  await sleep(ms);
  return { interrupts: timerInterrupts() - interrupts, wakeups: os.cpuStats().wakeups - wakeups };
}

async function idleReport(): Promise<void> {
  const before = await idle(1000);
  profiler.start();
  const sampling = await idle(1000);
  profiler.stop();
  const top = profiler.top(3);
  const after = await idle(1000);
  console.log(`profiler: idle ${JSON.stringify({ before, sampling, after, top })}`);
}

// The profiler's integration test: `hot` reports profiler.top after a known workload (a window for
// `uos boot --profile`); `busy` just works (the whole run is the profile); `idle` counts the timer's
// interrupts while idle with the sampler off, on and off again; `panic` and `fault` fail while the
// sampler runs fast, to show the reports stay the same.
export default service({
  start([mode = 'hot', ms = '1500']) {
    if (mode === 'idle') return idleReport();
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
