// The package's own entry, not ../platform.js: built, this file is a separate bundle, and it must set
// the platform the driver under test reads, not a copy of it.
import { setHwPlatform } from '@uos/hw';
import { FakeInterruptController } from './fake-interrupts.js';
import { FakePlatform } from './fake-platform.js';

/**
 * A fake PCI platform and interrupt controller installed together: what a driver's unit test starts
 * from. `install()` in `beforeEach`, `uninstall()` in `afterEach`; a device model adds its function to
 * `platform` and signals through `interrupts`; `settle()` runs the driver's interrupt handlers.
 */
export class FakeMachine {
  readonly platform = new FakePlatform();
  readonly interrupts = new FakeInterruptController();
  private previous: ReturnType<typeof setHwPlatform> | 'none' = 'none';

  install(): this {
    if (this.previous === 'none') this.previous = setHwPlatform(this.platform);
    this.interrupts.install();
    return this;
  }

  uninstall(): void {
    this.interrupts.uninstall();
    if (this.previous !== 'none') setHwPlatform(this.previous);
    this.previous = 'none';
  }

  /** Runs interrupt handlers (and the microtasks between them) until the machine is quiet. */
  settle(maxTurns?: number): Promise<number> {
    return this.interrupts.settle(maxTurns);
  }
}
