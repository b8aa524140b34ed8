import { service } from '@uos/kernel';

// Stays alive (a periodic timer) so that a test can query QEMU through QMP while the guest runs.
export default service({
  start() {
    console.log('qmp: ready');
    setInterval(() => {}, 1000);
  },
});
