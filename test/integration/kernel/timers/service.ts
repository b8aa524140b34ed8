import { service, timers } from '@uos/kernel';

// Timer order and cancellation: one-shot, periodic, nested, 0 ms, cleared before firing, and promises
// interleaved with timers. Each callback logs the deadline it was set for (performance.now() at the call
// plus its delay) and the order it was set in, so the test checks the order against the real deadlines:
// a host that stalls the VM between two calls moves a deadline, never the rule.
interface TimerEvent {
  label: string;
  /** The deadline of the timer whose callback logged it, and the order that timer was set in. */
  deadline: number;
  setOrder: number;
}
const events: TimerEvent[] = [];
let setCount = 0;

/** A deadline record for a timer set now with `ms`. */
function due(ms: number): { deadline: number; setOrder: number } {
  return { deadline: performance.now() + ms, setOrder: setCount++ };
}

function after(ms: number, label: string, then?: (at: { deadline: number; setOrder: number }) => void): void {
  const at = due(ms);
  setTimeout(() => {
    events.push({ label, ...at });
    then?.(at);
  }, ms);
}

export default service({
  async start() {
    after(90, 'a 90');
    after(10, 'b 10');
    after(0, 'c 0');
    after(0, 'd 0 after c');
    const cancelled = setTimeout(() => events.push({ label: 'never: cancelled', deadline: -1, setOrder: -1 }), 5);
    clearTimeout(cancelled);
    const oneshot = timers.oneshot(15, () => events.push({ label: 'never: stopped oneshot', deadline: -1, setOrder: -1 }));
    timers.stop(oneshot);
    after(20, 'e 20', (at) => {
      after(0, 'f nested 0 after e');
      Promise.resolve().then(() => events.push({ label: 'g microtask inside e', ...at }));
    });
    let ticks = 0;
    let intervalAt = due(100);
    const interval = setInterval(() => {
      ticks++;
      events.push({ label: `interval ${ticks}`, ...intervalAt });
      // Fixed rate, as the kernel's timer queue does: the next deadline is this one plus the period,
      // skipping ahead after a stall longer than the period.
      const next = intervalAt.deadline + 100;
      const now = performance.now();
      intervalAt = { deadline: next <= now ? now + 100 : next, setOrder: intervalAt.setOrder };
      if (ticks === 3) clearInterval(interval);
    }, 100);
    const periodicAt = due(350);
    const periodic = timers.periodic(
      50,
      () => {
        events.push({ label: 'periodic', ...periodicAt });
        timers.stop(periodic);
      },
      350,
    );
    const awaited = due(1);
    await new Promise((resolve) => setTimeout(resolve, 1));
    events.push({ label: 'await 1 ms', ...awaited });
    await null;
    events.push({ label: 'after await null', ...awaited });
    await new Promise((resolve) => setTimeout(resolve, 400));
    console.log(`timers: ${JSON.stringify(events)}`);
    console.log(`timers: active ${timers.active}`);
  },
});
