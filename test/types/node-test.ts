// A Node-side test file as a consumer writes it (@types/node globals, the runner's API), importing the
// service module: the service type-checks under Node's globals too, without the uOS ones.
import { PciDevice } from '@uos/hw';
import { FakeDeviceInterrupts, FakeMachine } from '@uos/hw/test';
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

// A driver's unit test: the fake machine from @uos/hw/test, a device on it, the driver's handlers run.
export async function driverTest(): Promise<number> {
  const machine = new FakeMachine().install();
  const f = machine.platform.addFunction({ device: 4 }, { vendorId: 0x15ad, deviceId: 0x07b0, interruptPin: 1 });
  f.setBar(0, { kind: 'mmio32', address: 0xfebf0000, size: 0x1000 });
  machine.platform.attachMmio(0xfebf0000, 0x1000, { read: (offset) => offset, write: () => undefined });
  const signals = new FakeDeviceInterrupts(machine.platform, machine.interrupts, f);
  signals.setIntx(false);
  const turns: number = await machine.settle();
  const bytes: Uint8Array = machine.platform.dma(machine.platform.dmaAddress(machine.platform.dmaAllocate(64)), 64);
  machine.uninstall();
  return turns + bytes.length + new PciDevice(0, 4, 0).vendorId;
}
