import { service } from '@uos/kernel';
// A bare import of a package marked "sideEffects": false: esbuild would drop it silently. For a driver
// that would mean an image without its driver, so uos build refuses.
import '@uos/net';

export default service({
  start() {
    console.log('dropped-import: this image should never be built');
  },
});
