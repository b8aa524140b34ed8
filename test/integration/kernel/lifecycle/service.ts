import { os, service, timers } from '@uos/kernel';

// Exercises the service lifecycle: start arguments, promises interleaved with timers, the stop hook on
// shutdown, and an explicit exit status.
export default service({
  async start(args) {
    console.log(`lifecycle: args ${JSON.stringify(args)}`);
    const order: string[] = [];
    setTimeout(() => order.push('timeout 200'), 200);
    setTimeout(() => order.push('timeout 0'), 0);
    const periodic = timers.periodic(10, () => {
      order.push('periodic');
      if (order.filter((o) => o === 'periodic').length === 3) timers.stop(periodic);
    });
    await Promise.resolve();
    order.push('microtask');
    await new Promise((resolve) => setTimeout(resolve, 250));
    console.log(`lifecycle: order ${order.join(', ')}`);
    console.log(
      `lifecycle: uptime ${os.uptime() > 0 ? 'positive' : 'zero'}, wall clock ${Date.now() > Date.UTC(2020, 0, 1) ? 'set' : 'unset'}`,
    );
    if (args[0] === 'exit') os.exit(Number(args[1]));
    if (args[0] === 'shutdown') os.shutdown();
  },
  stop() {
    console.log('lifecycle: stop hook ran');
  },
});
