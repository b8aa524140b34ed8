import { service } from '@uos/kernel';

// No driver import: the image must not carry the virtio-net driver, and the boot log must say so.
export default service({
  start() {
    console.log('no-driver: started');
  },
});
