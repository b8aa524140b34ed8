import { service } from '@uos/kernel';

declare const Widget: new () => { name: string };

export default service({
  start() {
    console.log(new Widget().name, typeof Object.hasOwn);
  },
});
