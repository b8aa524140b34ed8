/**
 * How a fake device signals its driver, as PCI defines it: MSI-X (the table and pending bits live in the
 * device's BAR; a masked entry or function keeps its message pending and sends it once unmasked), MSI
 * (the capability's address and data), or the legacy INTx line (level-triggered, silenced by the command
 * register's interrupt-disable bit). A device model makes one `FakeDeviceInterrupts` for its function
 * after adding the capabilities and BARs, and calls `msix`, `msi` or `setIntx`; `mode` says which one the
 * driver turned on.
 */
import type { FakeInterruptController } from './fake-interrupts.js';
import type { FakePciFunction, FakePlatform } from './fake-platform.js';

const CAPABILITY_MSI = 0x05;
const CAPABILITY_MSIX = 0x11;
const MSIX_ENABLE = 1 << 15;
const MSIX_FUNCTION_MASK = 1 << 14;
const MSI_ENABLE = 1;
const INTX_DISABLE = 1 << 10;
const ENTRY = 16;

export class FakeDeviceInterrupts {
  /** MSI-X messages sent, by entry (for tests that check which entry a device used). */
  readonly msixSent: number[] = [];
  private readonly msixCapability: number | undefined;
  private readonly msiCapability: number | undefined;
  private readonly table: Uint32Array;
  private readonly pendingBits: Uint8Array;
  private intxLevel = false;
  private readonly detach: (() => void)[] = [];

  constructor(
    platform: FakePlatform,
    private readonly controller: FakeInterruptController,
    private readonly fn: FakePciFunction,
  ) {
    this.msixCapability = fn.findCapability(CAPABILITY_MSIX);
    this.msiCapability = fn.findCapability(CAPABILITY_MSI);
    const size = this.msixCapability === undefined ? 0 : (fn.read(this.msixCapability + 2, 2) & 0x7ff) + 1;
    this.table = new Uint32Array(size * 4);
    this.pendingBits = new Uint8Array(size);
    for (let i = 0; i < size; i++) this.table[i * 4 + 3] = 1; // entries start masked
    if (this.msixCapability !== undefined) {
      const placement = fn.read(this.msixCapability + 4, 4);
      const base = fn.barAddress(placement & 7) + (placement & ~7);
      this.detach.push(
        platform.attachMmio(base, size * ENTRY, {
          read: (offset, width) => readWords(this.table, offset, width),
          write: (offset, width, value) => {
            writeWords(this.table, offset, width, value);
            this.deliverPending();
          },
        }),
      );
      const pba = fn.read(this.msixCapability + 8, 4);
      const pbaBase = fn.barAddress(pba & 7) + (pba & ~7);
      this.detach.push(
        platform.attachMmio(pbaBase, Math.ceil(size / 64) * 8, {
          read: (offset, width) => {
            let value = 0;
            for (let bit = 0; bit < width * 8; bit++) if (this.pendingBits[offset * 8 + bit]) value |= 1 << bit;
            return value >>> 0;
          },
          write: () => {},
        }),
      );
    }
    this.detach.push(
      fn.onWrite(() => {
        this.deliverPending();
        this.updateLine();
      }),
    );
  }

  /** Which interrupts the driver enabled: MSI-X, MSI, or neither (INTx). */
  get mode(): 'msix' | 'msi' | 'intx' {
    if (this.msixCapability !== undefined && this.fn.read(this.msixCapability + 2, 2) & MSIX_ENABLE) return 'msix';
    if (this.msiCapability !== undefined && this.fn.read(this.msiCapability + 2, 2) & MSI_ENABLE) return 'msi';
    return 'intx';
  }

  /** The number of MSI-X table entries (0 without MSI-X). */
  get msixSize(): number {
    return this.pendingBits.length;
  }

  /** Signals MSI-X entry `entry`: sent now, or left pending while the entry or the function is masked. */
  msix(entry: number): void {
    if (!Number.isInteger(entry) || entry < 0 || entry >= this.pendingBits.length)
      throw new Error(`fake device: MSI-X entry ${entry} outside a table of ${this.pendingBits.length}`);
    this.pendingBits[entry] = 1;
    this.deliverPending();
  }

  /** Whether MSI-X entry `entry` waits, pending, for an unmask. */
  msixPending(entry: number): boolean {
    return this.pendingBits[entry] === 1;
  }

  /** Sends message `vector` (0 for a single-message MSI) through the MSI capability, when MSI is enabled. */
  msi(vector = 0): void {
    const at = this.msiCapability;
    if (at === undefined || !(this.fn.read(at + 2, 2) & MSI_ENABLE)) return;
    const control = this.fn.read(at + 2, 2);
    const is64 = Boolean(control & (1 << 7));
    const low = this.fn.read(at + 4, 4);
    const high = is64 ? this.fn.read(at + 8, 4) : 0;
    const data = this.fn.read(at + (is64 ? 12 : 8), 2);
    const enabledVectors = 1 << ((control >> 4) & 7);
    if (vector >= enabledVectors) throw new Error(`fake device: MSI vector ${vector} with ${enabledVectors} enabled`);
    this.controller.message(high * 2 ** 32 + low, (data & ~(enabledVectors - 1)) | vector);
  }

  /** Raises or lowers the INTx line (it stays low while the command register disables INTx). */
  setIntx(high: boolean): void {
    this.intxLevel = high;
    this.updateLine();
  }

  /** Detaches the table's registers and the configuration watch. */
  dispose(): void {
    for (const d of this.detach) d();
    this.controller.setLine(this.fn.read(0x3c, 1), this.fn, false);
  }

  private updateLine(): void {
    const silenced = Boolean(this.fn.read(0x04, 2) & INTX_DISABLE);
    this.controller.setLine(this.fn.read(0x3c, 1), this.fn, this.intxLevel && !silenced);
  }

  private deliverPending(): void {
    if (this.msixCapability === undefined) return;
    const control = this.fn.read(this.msixCapability + 2, 2);
    if (!(control & MSIX_ENABLE) || control & MSIX_FUNCTION_MASK) return;
    for (let entry = 0; entry < this.pendingBits.length; entry++) {
      if (!this.pendingBits[entry] || this.table[entry * 4 + 3]! & 1) continue;
      this.pendingBits[entry] = 0;
      this.msixSent.push(entry);
      this.controller.message(this.table[entry * 4 + 1]! * 2 ** 32 + this.table[entry * 4]!, this.table[entry * 4 + 2]!);
    }
  }
}

function readWords(words: Uint32Array, offset: number, width: number): number {
  const word = words[offset >> 2] ?? 0;
  const shift = (offset & 3) * 8;
  return width === 4 ? word : (word >>> shift) & (width === 2 ? 0xffff : 0xff);
}

function writeWords(words: Uint32Array, offset: number, width: number, value: number): void {
  const index = offset >> 2;
  if (width === 4) {
    words[index] = value;
    return;
  }
  const shift = (offset & 3) * 8;
  const mask = (width === 2 ? 0xffff : 0xff) << shift;
  words[index] = ((words[index]! & ~mask) | ((value << shift) & mask)) >>> 0;
}
