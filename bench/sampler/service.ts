import { profiler, service } from '@uos/kernel';

/** Interpreter work with no calls in the loop. */
function spin(iterations: number): number {
  let x = 0;
  for (let i = 0; i < iterations; i++) x = (x * 31 + i) % 1000003;
  return x;
}

/** The loop under `depth` more frames: the sampler walks every frame on each tick. */
function nested(depth: number, iterations: number): number {
  return depth > 0 ? nested(depth - 1, iterations) + 1 : spin(iterations);
}

function timed(iterations: number): number {
  const started = performance.now();
  nested(16, iterations);
  return performance.now() - started;
}

// The stack sampler's overhead for `pnpm bench`: the same CPU-bound loop (under 20 frames) timed with
// the sampler off and on at its default rate, in alternating rounds so that changes in the host's load
// hit both alike. Prints one line: `sampler: {"off":[ms…],"on":[ms…],"samples":n,"samplingUs":µs,"hz":997}`
// (samplingUs: the time the interrupt spent taking the samples, its entry and exit not included).
export default service({
  start([roundsArgument = '7', iterationsArgument = '300000']) {
    const rounds = Number(roundsArgument);
    const iterations = Number(iterationsArgument);
    timed(iterations); // warm up
    const off: number[] = [];
    const on: number[] = [];
    let samples = 0;
    let samplingUs = 0;
    for (let round = 0; round < rounds; round++) {
      off.push(timed(iterations));
      profiler.start();
      on.push(timed(iterations));
      profiler.stop();
      const status = profiler.status();
      samples += status.samples;
      samplingUs += status.samplingUs;
    }
    console.log(`sampler: ${JSON.stringify({ off, on, samples, samplingUs, hz: profiler.status().hz })}`);
  },
});
