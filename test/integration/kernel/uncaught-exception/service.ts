import { service } from '@uos/kernel';

function explode(reason: string): never {
  throw new Error(`boom: ${reason}`);
}

function prepare(): void {
  explode('the service threw on purpose');
}

export default service({
  start() {
    console.log('uncaught-exception: starting');
    prepare();
  },
});
