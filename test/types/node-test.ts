// A Node-side test file as a consumer writes it (@types/node globals, the runner's API), importing the
// service module: the service type-checks under Node's globals too, without the uOS ones.
import { buildImage, withVm } from '@uos/vmrunner';
import definition from './service.js';

const encoded: Uint8Array = new TextEncoder().encode('node');
const timer: NodeJS.Timeout = setTimeout(() => undefined, 1);
clearTimeout(timer);

export async function bootOnce(serviceDir: string): Promise<number> {
  const built = await buildImage({ serviceDir });
  return withVm({ image: built.image, config: { machine: 'pc' } }, async (vm) => {
    await vm.waitFor(/started/);
    return (await vm.waitForExit()).status ?? encoded.length + (definition ? 0 : 1);
  });
}
