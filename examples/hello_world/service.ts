import { service } from '@uos/kernel';

// The whole service. When start returns and nothing else is pending, the VM powers off with status 0.
export default service({
  start() {
    console.log('Hello world - OS included!');
  },
});
