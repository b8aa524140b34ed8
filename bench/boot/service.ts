import { os, service } from '@uos/kernel';

// hello_world's boot with the clock read at each stage, for `pnpm bench`: prints one line,
// `boot: {"entryMs": …, "stages": [[name, ms since kernel entry], …]}`, where entryMs is the time from the
// CPU's reset to kernel entry (firmware and loader) and the last stage, `start`, is this service's start().
export default service({
  start() {
    const info = os.bootInfo();
    const calibrated = info.timeline.find(([name]) => name === 'clocks calibrated')?.[1] ?? 0;
    // os.uptime() counts from the end of the clocks' calibration.
    const stages = [...info.timeline, ['start', calibrated + os.uptime()]].map(([name, ms]) => [
      name,
      Math.round(Number(ms) * 1000) / 1000,
    ]);
    console.log(`boot: ${JSON.stringify({ entryMs: Math.round(info.entryMs * 1000) / 1000, stages })}`);
  },
});
