import { service } from '@uos/kernel';

async function loadConfiguration(): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  throw new TypeError('configuration is missing');
}

export default service({
  start() {
    console.log('unhandled-rejection: starting');
    // Nobody awaits or catches this promise.
    void loadConfiguration();
  },
});
