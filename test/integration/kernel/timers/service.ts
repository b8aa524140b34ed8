import { service, timers } from '@uos/kernel';

// Timer order and cancellation, checked against deadlines rather than wall time (deadlines are spread so
// that only a stall of tens of milliseconds could reorder them): one-shot, periodic,
// nested, 0 ms, cleared before firing, and promises interleaved with timers.
const events: string[] = [];
const log = (event: string) => events.push(event);

export default service({
  async start() {
    setTimeout(() => log('a 90'), 90);
    setTimeout(() => log('b 10'), 10);
    setTimeout(() => log('c 0'), 0);
    setTimeout(() => log('d 0 after c'), 0);
    const cancelled = setTimeout(() => log('never: cancelled'), 5);
    clearTimeout(cancelled);
    const oneshot = timers.oneshot(15, () => log('never: stopped oneshot'));
    timers.stop(oneshot);
    setTimeout(() => {
      log('e 20');
      setTimeout(() => log('f nested 0 after e'), 0);
      Promise.resolve().then(() => log('g microtask inside e'));
    }, 20);
    let ticks = 0;
    const interval = setInterval(() => {
      ticks++;
      log(`interval ${ticks}`);
      if (ticks === 3) clearInterval(interval);
    }, 100);
    const periodic = timers.periodic(
      50,
      () => {
        log('periodic');
        timers.stop(periodic);
      },
      350,
    );
    await new Promise((resolve) => setTimeout(resolve, 1));
    log('await 1 ms');
    await null;
    log('after await null');
    await new Promise((resolve) => setTimeout(resolve, 400));
    console.log(`timers: ${events.join(' | ')}`);
    console.log(`timers: active ${timers.active}`);
  },
});
