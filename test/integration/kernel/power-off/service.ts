import { os, service } from '@uos/kernel';

export default service({
  start([status]) {
    console.log(`power-off: exiting with ${status}`);
    os.exit(Number(status));
  },
});
