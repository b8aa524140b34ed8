/**
 * @uos/hw/test: a machine without hardware, for unit tests of @uos/hw and of drivers (in Node, under
 * vitest). Nothing here touches the native platform.
 *
 * - `FakePlatform` (an `HwPlatform`): PCI configuration spaces with write masks, BARs sized by probing,
 *   capabilities (MSI, MSI-X, vendor), MMIO and I/O ports as plain memory or as registers a device model
 *   answers (`attachMmio`, `attachPorts`), DMA memory a device reaches by physical address (`dma`).
 * - `FakeInterruptController`: what the kernel's `irq` and event loop need (vector allocation, legacy
 *   lines, MSI messages), with `settle()` to run the subscribed handlers turn by turn.
 * - `FakeDeviceInterrupts`: the device side of MSI-X (table, masks, pending bits), MSI and INTx.
 * - `FakeMachine`: platform and controller installed together.
 *
 * A driver test:
 *
 * ```ts
 * const machine = new FakeMachine().install();
 * const model = new MyDeviceModel(machine); // adds a function, attaches its registers, raises interrupts
 * const nic = new MyNic(new PciDevice(0, 3, 0), 'eth0');
 * model.deliver(frame);
 * await machine.settle(); // the driver's interrupt handler runs and hands the frame to its listeners
 * machine.uninstall();
 * ```
 */
export { FakeMachine } from './fake-machine.js';
export { FakeInterruptController } from './fake-interrupts.js';
export type { RoutedLine } from './fake-interrupts.js';
export { FakeDeviceInterrupts } from './fake-device-interrupts.js';
export { FakePciFunction, FakePlatform, SparseMemory, thrownBy } from './fake-platform.js';
export type {
  AccessWidth,
  BusWrite,
  ConfigRead,
  ConfigWrite,
  DmaAllocation,
  FakeBar,
  FakeFunctionOptions,
  FakeRegisters,
  MappedRange,
  MsixCapabilityOptions,
} from './fake-platform.js';
