/**
 * A fake `HwPlatform` for unit tests of @uos/hw and of drivers (`@uos/hw/test`).
 *
 * It emulates PCI configuration spaces (256 bytes per function, little-endian, with per-byte write masks
 * so read-only fields ignore writes and BARs read back their size mask after all ones are written), a
 * capability-list builder, sparse MMIO and I/O port memory with write logs, register ranges a device
 * model answers itself (`attachMmio`, `attachPorts`), DMA memory with fake page-aligned addresses that a
 * device model reads and writes by physical address (`dma`), and a configurable local APIC ID. Install
 * it with `setHwPlatform(fake)`.
 */
import type { PciFunctionInfo } from '@uos/kernel';
import type { HwPlatform } from '../platform.js';

export type AccessWidth = 1 | 2 | 4;

/** One read of a configuration space. */
export interface ConfigRead {
  bus: number;
  device: number;
  function: number;
  offset: number;
  width: AccessWidth;
}

/** One write to a configuration space, with the command register as it was just before the write. */
export interface ConfigWrite {
  bus: number;
  device: number;
  function: number;
  offset: number;
  width: AccessWidth;
  value: number;
  commandBefore: number;
}

/** One MMIO or port write, in order. */
export interface BusWrite {
  address: number;
  width: AccessWidth;
  value: number;
}

export interface MappedRange {
  address: number;
  size: number;
}

export interface DmaAllocation {
  address: number;
  size: number;
}

/** Registers a device model answers itself: offsets are relative to the start of the attached range. */
export interface FakeRegisters {
  read(offset: number, width: AccessWidth): number;
  write(offset: number, width: AccessWidth, value: number): void;
}

interface AttachedRange {
  base: number;
  size: number;
  registers: FakeRegisters;
}

export type FakeBar =
  | { kind: 'io'; address: number; size: number }
  | { kind: 'mmio32' | 'mmio64'; address: number; size: number; prefetchable?: boolean };

/** The identity of a fake function; everything but the IDs has a default. */
export interface FakeFunctionOptions {
  vendorId: number;
  deviceId: number;
  classCode?: number;
  subclass?: number;
  progIf?: number;
  revision?: number;
  /** The full header-type byte (bit 7: multi-function). Default 0. */
  headerType?: number;
  command?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  interruptLine?: number;
  interruptPin?: number;
}

export interface MsixCapabilityOptions {
  /** Entries in the table (the control register holds this minus one). */
  tableSize: number;
  /** The BAR index holding the table (BIR) and the table's offset in it (8-byte aligned). */
  tableBar: number;
  tableOffset: number;
  pendingBitArrayBar?: number;
  pendingBitArrayOffset?: number;
  /** Extra message-control bits (e.g. 1 << 14, the function mask). */
  control?: number;
}

const CONFIG_SIZE = 256;
const STATUS_CAPABILITIES = 1 << 4;
const FIRST_CAPABILITY = 0x40;
const PAGE = 4096;

const widthMask = (width: AccessWidth): number => (width === 4 ? 0xffffffff : width === 2 ? 0xffff : 0xff);
const truncate = (value: number, width: AccessWidth): number => (value & widthMask(width)) >>> 0;
const roundUp = (value: number, multiple: number): number => Math.ceil(value / multiple) * multiple;

function checkWidth(width: number): asserts width is AccessWidth {
  if (width !== 1 && width !== 2 && width !== 4) throw new Error(`fake platform: access width ${width}`);
}

/** One PCI function's configuration space. */
export class FakePciFunction {
  /** The bytes a read returns. */
  readonly config = new Uint8Array(CONFIG_SIZE);
  /** Per byte, the bits a configuration write may change. */
  readonly writable = new Uint8Array(CONFIG_SIZE);
  private lastCapability: number | undefined;
  private nextCapability = FIRST_CAPABILITY;
  private readonly writeListeners: ((offset: number, width: AccessWidth, value: number) => void)[] = [];

  readonly bus: number;
  readonly device: number;
  readonly function: number;

  constructor(bus: number, device: number, fn: number, options: FakeFunctionOptions) {
    this.bus = bus;
    this.device = device;
    this.function = fn;
    this.setRaw(0x00, 2, options.vendorId);
    this.setRaw(0x02, 2, options.deviceId);
    this.setRaw(0x04, 2, options.command ?? 0);
    this.setRaw(0x08, 1, options.revision ?? 0);
    this.setRaw(0x09, 1, options.progIf ?? 0);
    this.setRaw(0x0a, 1, options.subclass ?? 0);
    this.setRaw(0x0b, 1, options.classCode ?? 0);
    this.setRaw(0x0e, 1, options.headerType ?? 0);
    this.setRaw(0x2c, 2, options.subsystemVendorId ?? 0);
    this.setRaw(0x2e, 2, options.subsystemId ?? 0);
    this.setRaw(0x3c, 1, options.interruptLine ?? 0);
    this.setRaw(0x3d, 1, options.interruptPin ?? 0);
    // Command bits 0..10, cache line size, latency timer and the interrupt line are writable.
    this.setWritable(0x04, 2, 0x07ff);
    this.setWritable(0x0c, 2, 0xffff);
    this.setWritable(0x3c, 1, 0xff);
  }

  /** Reads like the bus does. */
  read(offset: number, width: AccessWidth): number {
    this.checkRange(offset, width);
    let value = 0;
    for (let i = width - 1; i >= 0; i--) value = value * 256 + (this.config[offset + i] ?? 0);
    return value;
  }

  /** Writes like the bus does: only writable bits change. */
  write(offset: number, width: AccessWidth, value: number): void {
    this.checkRange(offset, width);
    const v = truncate(value, width);
    for (let i = 0; i < width; i++) {
      const byte = (v >>> (i * 8)) & 0xff;
      const mask = this.writable[offset + i] ?? 0;
      const old = this.config[offset + i] ?? 0;
      this.config[offset + i] = (old & ~mask) | (byte & mask);
    }
    for (const listener of this.writeListeners) listener(offset, width, v);
  }

  /** Calls `listener` after every configuration write (a device model watching its command register or capabilities). */
  onWrite(listener: (offset: number, width: AccessWidth, value: number) => void): () => void {
    this.writeListeners.push(listener);
    return () => {
      const at = this.writeListeners.indexOf(listener);
      if (at >= 0) this.writeListeners.splice(at, 1);
    };
  }

  /** The offset of the first capability with `id`, or undefined. */
  findCapability(id: number): number | undefined {
    let offset = this.read(0x06, 2) & STATUS_CAPABILITIES ? this.read(0x34, 1) : 0;
    for (let hops = 0; offset >= FIRST_CAPABILITY && hops < 48; hops++) {
      if (this.read(offset, 1) === id) return offset;
      offset = this.read(offset + 1, 1);
    }
    return undefined;
  }

  /** The address BAR `index` holds now (a 64-bit BAR's both halves). */
  barAddress(index: number): number {
    const low = this.read(0x10 + index * 4, 4);
    if (low & 1) return low & 0xfffffffc;
    const high = ((low >>> 1) & 3) === 2 ? this.read(0x14 + index * 4, 4) : 0;
    return high * 2 ** 32 + ((low & 0xfffffff0) >>> 0);
  }

  /** Stores bytes directly, ignoring write masks (for setting up a test). */
  setRaw(offset: number, width: AccessWidth, value: number): void {
    this.checkRange(offset, width);
    const v = truncate(value, width);
    for (let i = 0; i < width; i++) this.config[offset + i] = (v >>> (i * 8)) & 0xff;
  }

  /** Sets the bits a configuration write may change. */
  setWritable(offset: number, width: AccessWidth, mask: number): void {
    this.checkRange(offset, width);
    const m = truncate(mask, width);
    for (let i = 0; i < width; i++) this.writable[offset + i] = (m >>> (i * 8)) & 0xff;
  }

  get command(): number {
    return this.read(0x04, 2);
  }

  /**
   * Implements BAR `index` (a 64-bit one also takes index + 1). The address bits below the size read as
   * zero and are read-only, as are the type bits, so writing all ones reads back the size mask.
   */
  setBar(index: number, bar: FakeBar): this {
    const offset = 0x10 + index * 4;
    if (bar.size <= 0 || !Number.isInteger(Math.log2(bar.size)))
      throw new Error(`fake platform: BAR size ${bar.size} is not a power of two`);
    if (bar.address % bar.size) throw new Error(`fake platform: BAR address 0x${bar.address.toString(16)} is not aligned to its size`);
    if (bar.kind === 'io') {
      const mask = ~(bar.size - 1) & 0xfffffffc;
      this.setRaw(offset, 4, (bar.address & mask) | 1);
      this.setWritable(offset, 4, mask);
      return this;
    }
    const prefetchable = bar.prefetchable ? 8 : 0;
    if (bar.kind === 'mmio32') {
      const mask = ~(bar.size - 1) & 0xfffffff0;
      this.setRaw(offset, 4, (bar.address & mask) | prefetchable);
      this.setWritable(offset, 4, mask);
      return this;
    }
    const mask = ~(BigInt(bar.size) - 1n) & 0xffffffffffffffffn;
    const address = BigInt(bar.address) & mask;
    this.setRaw(offset, 4, Number(address & 0xfffffff0n) | 4 | prefetchable);
    this.setWritable(offset, 4, Number(mask & 0xfffffff0n));
    this.setRaw(offset + 4, 4, Number(address >> 32n));
    this.setWritable(offset + 4, 4, Number(mask >> 32n));
    return this;
  }

  /**
   * Appends a capability (ID, next pointer, then `body`) to the list, 4-byte aligned from 0x40, and sets
   * the status bit and the capabilities pointer. Returns its offset. The body is read-only.
   */
  addCapability(id: number, body: ArrayLike<number> = []): number {
    const offset = this.nextCapability;
    const length = roundUp(2 + body.length, 4);
    if (offset + length > CONFIG_SIZE) throw new Error('fake platform: no room for another capability');
    this.config[offset] = id;
    this.config[offset + 1] = 0;
    for (let i = 0; i < body.length; i++) this.config[offset + 2 + i] = body[i] ?? 0;
    if (this.lastCapability === undefined) {
      this.setRaw(0x34, 1, offset);
      this.setRaw(0x06, 2, this.read(0x06, 2) | STATUS_CAPABILITIES);
    } else {
      this.config[this.lastCapability + 1] = offset;
    }
    this.lastCapability = offset;
    this.nextCapability = offset + length;
    return offset;
  }

  /** An MSI-X capability (12 bytes); enable (bit 15) and function mask (bit 14) are writable. */
  addMsixCapability(options: MsixCapabilityOptions): number {
    const control = ((options.tableSize - 1) & 0x7ff) | (options.control ?? 0);
    const table = (options.tableOffset | options.tableBar) >>> 0;
    const pending = ((options.pendingBitArrayOffset ?? 0) | (options.pendingBitArrayBar ?? options.tableBar)) >>> 0;
    const body = [control & 0xff, control >>> 8, ...littleEndian32(table), ...littleEndian32(pending)];
    const offset = this.addCapability(0x11, body);
    this.setWritable(offset + 2, 2, 0xc000);
    return offset;
  }

  /**
   * An MSI capability (ID 5): message control, address (64-bit when `is64`), data. Enable (bit 0) and
   * multiple message enable (bits 4-6) of the control register, the address and the data are writable.
   */
  addMsiCapability(options: { vectors?: 1 | 2 | 4 | 8 | 16 | 32; is64?: boolean } = {}): number {
    const vectors = options.vectors ?? 1;
    const is64 = options.is64 ?? true;
    const control = (Math.log2(vectors) << 1) | (is64 ? 1 << 7 : 0);
    const body = [control & 0xff, control >>> 8, ...new Array<number>(is64 ? 12 : 8).fill(0)];
    const offset = this.addCapability(0x05, body);
    this.setWritable(offset + 2, 2, 0x0071);
    this.setWritable(offset + 4, 4, 0xfffffffc);
    if (is64) this.setWritable(offset + 8, 4, 0xffffffff);
    this.setWritable(offset + (is64 ? 12 : 8), 2, 0xffff);
    return offset;
  }

  /** A vendor-specific capability: ID 9, next, length (the whole capability's), then `body`. */
  addVendorCapability(body: ArrayLike<number>): number {
    return this.addCapability(0x09, [body.length + 3, ...Array.from(body)]);
  }

  /** What the boot code would report for this function. */
  info(): PciFunctionInfo {
    return {
      bus: this.bus,
      device: this.device,
      function: this.function,
      vendorId: this.read(0x00, 2),
      deviceId: this.read(0x02, 2),
      classCode: this.read(0x0b, 1),
      subclass: this.read(0x0a, 1),
      progIf: this.read(0x09, 1),
      revision: this.read(0x08, 1),
      headerType: this.read(0x0e, 1),
      interruptLine: this.read(0x3c, 1),
      interruptPin: this.read(0x3d, 1),
    };
  }

  private checkRange(offset: number, width: AccessWidth): void {
    checkWidth(width);
    if (!Number.isInteger(offset) || offset < 0 || offset + width > CONFIG_SIZE || offset % width) {
      throw new Error(`fake platform: configuration access of ${width} bytes at 0x${offset.toString(16)}`);
    }
  }
}

function littleEndian32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

/** Byte-addressed memory kept as a sparse map of 4-byte-aligned addresses to 32-bit values. */
export class SparseMemory {
  private readonly words = new Map<number, number>();

  read(address: number, width: AccessWidth): number {
    let value = 0;
    for (let i = width - 1; i >= 0; i--) value = value * 256 + this.byte(address + i);
    return value;
  }

  write(address: number, width: AccessWidth, value: number): void {
    const v = truncate(value, width);
    for (let i = 0; i < width; i++) this.setByte(address + i, (v >>> (i * 8)) & 0xff);
  }

  /** The stored 32-bit words by aligned address, in address order. */
  entries(): [number, number][] {
    return [...this.words].sort((a, b) => a[0] - b[0]);
  }

  private byte(address: number): number {
    const lane = address % 4;
    return ((this.words.get(address - lane) ?? 0) >>> (lane * 8)) & 0xff;
  }

  private setByte(address: number, byte: number): void {
    const lane = address % 4;
    const word = this.words.get(address - lane) ?? 0;
    const shift = lane * 8;
    this.words.set(address - lane, ((word & ~(0xff << shift)) | (byte << shift)) >>> 0);
  }
}

/** The fake machine. */
export class FakePlatform implements HwPlatform {
  private readonly functionsByLocation = new Map<string, FakePciFunction>();
  readonly configReads: ConfigRead[] = [];
  readonly configWrites: ConfigWrite[] = [];
  readonly memory = new SparseMemory();
  readonly mmioWrites: BusWrite[] = [];
  readonly mappedRanges: MappedRange[] = [];
  readonly ports = new SparseMemory();
  readonly portWrites: BusWrite[] = [];
  readonly dmaAllocations: DmaAllocation[] = [];
  /** Total DMA bytes `dmaAllocate` hands out before it throws, as a real machine runs out. */
  dmaCapacity = 256 * 1024 * 1024;
  /** What `lapicId()` answers. */
  localApicId = 0;
  private nextDmaAddress = 0x200000;
  private dmaUsed = 0;
  private readonly dmaAddresses = new WeakMap<object, number>();
  /** Every DMA buffer by address, so a device model can reach memory by physical address. */
  private readonly dmaBuffers: { address: number; size: number; buffer: ArrayBuffer }[] = [];
  private readonly mmioDevices: AttachedRange[] = [];
  private readonly portDevices: AttachedRange[] = [];

  /** Adds a function at bus:device.function. */
  addFunction(location: { bus?: number; device: number; function?: number }, options: FakeFunctionOptions): FakePciFunction {
    const f = new FakePciFunction(location.bus ?? 0, location.device, location.function ?? 0, options);
    this.functionsByLocation.set(key(f.bus, f.device, f.function), f);
    return f;
  }

  /** Every function, as the boot code lists them. */
  functions(): PciFunctionInfo[] {
    return [...this.functionsByLocation.values()].map((f) => f.info());
  }

  /** The configuration reads of one function. */
  configReadsOf(f: FakePciFunction): ConfigRead[] {
    return this.configReads.filter((r) => r.bus === f.bus && r.device === f.device && r.function === f.function);
  }

  /** The configuration writes to one function. */
  configWritesTo(f: FakePciFunction): ConfigWrite[] {
    return this.configWrites.filter((w) => w.bus === f.bus && w.device === f.device && w.function === f.function);
  }

  configRead(bus: number, device: number, fn: number, offset: number, width: AccessWidth): number {
    const f = this.functionsByLocation.get(key(bus, device, fn));
    this.configReads.push({ bus, device, function: fn, offset, width });
    // Nothing answers: the bus reads all ones.
    return f ? f.read(offset, width) : widthMask(width) >>> 0;
  }

  configWrite(bus: number, device: number, fn: number, offset: number, width: AccessWidth, value: number): void {
    const f = this.functionsByLocation.get(key(bus, device, fn));
    this.configWrites.push({
      bus,
      device,
      function: fn,
      offset,
      width,
      value: truncate(value, width),
      commandBefore: f?.command ?? 0xffff,
    });
    f?.write(offset, width, value);
  }

  mmioMap(address: number, size: number): void {
    if (!Number.isSafeInteger(address) || !(size > 0)) throw new Error(`fake platform: mmioMap(0x${address.toString(16)}, ${size})`);
    this.mappedRanges.push({ address, size });
  }

  /**
   * Lets `registers` answer MMIO accesses to [address, address + size) instead of plain memory (the
   * writes are still logged in `mmioWrites`). Returns the function that detaches them.
   */
  attachMmio(address: number, size: number, registers: FakeRegisters): () => void {
    return attach(this.mmioDevices, address, size, registers);
  }

  /**
   * Answers ECAM (memory-mapped configuration space, 4 KiB per function) for this machine's functions,
   * as microvm's PCIe host does: bytes past a fake function's 256 read as zero (no extended
   * capabilities), absent functions read as all ones and ignore writes. Returns the detach function.
   */
  attachEcam(region: { base: number; busStart: number; busEnd: number }): () => void {
    const locate = (offset: number) => ({
      f: this.functionsByLocation.get(key(region.busStart + (offset >>> 20), (offset >>> 15) & 31, (offset >>> 12) & 7)),
      at: offset & 0xfff,
    });
    return this.attachMmio(region.base, (region.busEnd - region.busStart + 1) * 2 ** 20, {
      read: (offset, width) => {
        const { f, at } = locate(offset);
        return f ? (at < CONFIG_SIZE ? f.read(at, width) : 0) : widthMask(width) >>> 0;
      },
      write: (offset, width, value) => {
        const { f, at } = locate(offset);
        if (f && at < CONFIG_SIZE) f.write(at, width, value);
      },
    });
  }

  /** The same for I/O ports [base, base + size). */
  attachPorts(base: number, size: number, registers: FakeRegisters): () => void {
    return attach(this.portDevices, base, size, registers);
  }

  mmioRead(address: number, width: AccessWidth): number {
    this.checkMapped(address, width);
    const device = find(this.mmioDevices, address, width);
    return device ? truncate(device.registers.read(address - device.base, width), width) : this.memory.read(address, width);
  }

  mmioWrite(address: number, width: AccessWidth, value: number): void {
    this.checkMapped(address, width);
    this.mmioWrites.push({ address, width, value: truncate(value, width) });
    const device = find(this.mmioDevices, address, width);
    if (device) device.registers.write(address - device.base, width, truncate(value, width));
    else this.memory.write(address, width, value);
  }

  portRead(port: number, width: AccessWidth): number {
    checkPort(port, width);
    const device = find(this.portDevices, port, width);
    return device ? truncate(device.registers.read(port - device.base, width), width) : this.ports.read(port, width);
  }

  portWrite(port: number, width: AccessWidth, value: number): void {
    checkPort(port, width);
    this.portWrites.push({ address: port, width, value: truncate(value, width) });
    const device = find(this.portDevices, port, width);
    if (device) device.registers.write(port - device.base, width, truncate(value, width));
    else this.ports.write(port, width, value);
  }

  /**
   * The DMA memory at physical `address`, `length` bytes, as a device sees it (a view: writes land in
   * the driver's buffer). Throws when the range is not inside one `dmaAllocate` buffer, as a device
   * reading memory nobody gave it would be a driver bug.
   */
  dma(address: number, length: number): Uint8Array {
    for (const b of this.dmaBuffers) {
      if (address >= b.address && address + length <= b.address + b.size) {
        return new Uint8Array(b.buffer, address - b.address, length);
      }
    }
    throw new Error(`fake platform: DMA of ${length} bytes at 0x${address.toString(16)} outside every DMA buffer`);
  }

  dmaAllocate(size: number): ArrayBuffer {
    if (!Number.isInteger(size) || size <= 0) throw new Error(`fake platform: dmaAllocate(${size})`);
    const span = roundUp(size, PAGE);
    if (this.dmaUsed + span > this.dmaCapacity) throw new Error(`fake platform: out of DMA memory (${size} bytes asked)`);
    const buffer = new ArrayBuffer(size);
    const address = this.nextDmaAddress;
    this.nextDmaAddress += span;
    this.dmaUsed += span;
    this.dmaAddresses.set(buffer, address);
    this.dmaAllocations.push({ address, size });
    this.dmaBuffers.push({ address, size, buffer });
    return buffer;
  }

  dmaAddress(buffer: ArrayBuffer | ArrayBufferView): number {
    const view = ArrayBuffer.isView(buffer) ? buffer : undefined;
    const address = this.dmaAddresses.get(view ? view.buffer : buffer);
    if (address === undefined) throw new Error('fake platform: dmaAddress of memory dmaAllocate did not return');
    return address + (view ? view.byteOffset : 0);
  }

  lapicId(): number {
    return this.localApicId;
  }

  private checkMapped(address: number, width: AccessWidth): void {
    checkWidth(width);
    const inside = this.mappedRanges.some((r) => address >= r.address && address + width <= r.address + r.size);
    if (!inside) throw new Error(`fake platform: MMIO access of ${width} bytes at 0x${address.toString(16)} outside every mapped range`);
  }
}

function checkPort(port: number, width: AccessWidth): void {
  checkWidth(width);
  if (!Number.isInteger(port) || port < 0 || port + width > 0x10000) throw new Error(`fake platform: port 0x${port.toString(16)}`);
}

function attach(list: AttachedRange[], base: number, size: number, registers: FakeRegisters): () => void {
  if (!Number.isSafeInteger(base) || !(size > 0))
    throw new Error(`fake platform: cannot attach registers at 0x${base.toString(16)}+${size}`);
  if (list.some((r) => base < r.base + r.size && r.base < base + size))
    throw new Error(`fake platform: registers at 0x${base.toString(16)}+${size} overlap registers already attached`);
  const range = { base, size, registers };
  list.push(range);
  return () => {
    const at = list.indexOf(range);
    if (at >= 0) list.splice(at, 1);
  };
}

function find(list: AttachedRange[], address: number, width: AccessWidth): AttachedRange | undefined {
  for (const r of list) if (address >= r.base && address + width <= r.base + r.size) return r;
  return undefined;
}

function key(bus: number, device: number, fn: number): string {
  return `${bus}:${device}.${fn}`;
}

/** Calls `action` and returns what it threw (undefined when it returned). */
export function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}
