import { service } from '@uos/kernel';

// Runs until stopped from outside: a periodic timer keeps the service alive.
export default service({
  start(args) {
    console.log(`cli: running with ${JSON.stringify(args)}`);
    setInterval(() => {}, 1000);
  },
});
