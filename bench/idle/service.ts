import { os, service } from '@uos/kernel';
import { statman } from '@uos/statman';

// Idles with one timer armed an hour ahead; typed commands on the serial console: "stats" prints the
// statman snapshot as one JSON line, "quit" ends the service.
export default service({
  start() {
    setTimeout(() => console.log('idle: an hour passed'), 3_600_000);
    os.stdin.onData((text) => {
      if (text.includes('stats')) {
        const cpu = os.cpuStats();
        console.log(`idle: stats ${JSON.stringify({ timer: cpu.timer, uptimeMs: Math.round(os.uptime()), statman: statman.snapshot() })}`);
      }
      if (text.includes('quit')) os.exit(0);
    });
    console.log('idle: ready');
  },
});
