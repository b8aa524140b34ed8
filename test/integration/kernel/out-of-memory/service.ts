import { os, service } from '@uos/kernel';

// Keeps every object it makes until memory runs out.
export default service({
  start([mode]) {
    os.onPanic((info) => console.log(`out-of-memory: panic hook saw ${info.kind} (status ${info.status})`));
    console.log(`out-of-memory: free ${Math.round(os.heapUsage().freeBytes / 1024)} KiB`);
    if (mode === 'large') {
      // One request too big for the machine is an ordinary, catchable error.
      try {
        new ArrayBuffer(64 * 1024 * 1024);
      } catch (error) {
        console.log(`out-of-memory: large allocation refused: ${String(error)}`);
      }
    }
    const hoard: unknown[] = [];
    for (let i = 0; ; i++) hoard.push({ i, text: `object number ${i}`, list: [i, i + 1, i + 2] });
  },
});
