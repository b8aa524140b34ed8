import { service } from '@uos/kernel';

export default service({
  start() {
    console.log('unused-library-service-marker');
  },
});
