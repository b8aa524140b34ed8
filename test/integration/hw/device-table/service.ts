import '@uos/driver-virtionet';
import '@uos/driver-vmxnet3';
import { os, service } from '@uos/kernel';

// Imports the virtio-net and vmxnet3 drivers and stays up until told to quit, so the test can ask QEMU about the bus.
export default service({
  start() {
    os.stdin.onData((text) => {
      if (text.includes('quit')) os.exit(0);
    });
    console.log('device-table: ready');
  },
});
