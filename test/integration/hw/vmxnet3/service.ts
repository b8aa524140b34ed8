import { type Vmxnet3, configureVmxnet3 } from '@uos/driver-vmxnet3';
import { os } from '@uos/kernel';
import { rawFrameService } from '../raw-frame-service.js';

// Raw Ethernet frames through the vmxnet3 driver (commands in ../raw-frame-service.ts). The kernel
// command line may pick the interrupts (`interrupts=msi`, `interrupts=intx`): the device is bound after
// this module is evaluated and before start, so the choice is made here, at the top level.
const wanted = /(?:^|\s)interrupts=(msix|msi|intx)(?:\s|$)/.exec(os.bootInfo().cmdline)?.[1];
if (wanted) configureVmxnet3({ interrupts: wanted as 'msix' | 'msi' | 'intx' });

export default rawFrameService(
  'vmxnet3',
  (eth0) => `${(eth0 as Vmxnet3).interruptMode} speed ${(eth0 as Vmxnet3).linkSpeedMbps}`,
  (eth0) => {
    const device = (eth0 as Vmxnet3).deviceCounters();
    return {
      outOfBuffers: device.receive.outOfBuffers,
      deviceRxErrors: device.receive.errors,
      deviceTxErrors: device.transmit.errors,
      deviceTxDiscarded: device.transmit.discarded,
      resets: (eth0 as Vmxnet3).driverStats.resets.value,
    };
  },
);
