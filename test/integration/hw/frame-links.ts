/**
 * Links that carry raw Ethernet frames between a test and a guest NIC: a tap device in a network
 * namespace (the real thing, needs root), or QEMU's dgram netdev over loopback UDP when no tap can be
 * made. Both count frames by the big-endian sequence number after the Ethernet header.
 */
import type { NetConfig, Vm, VmOptions } from '@uos/vmrunner';
import { buildRawFrames, createDgramLink, createTapLink, parseReceiveReport } from '../network.js';

export interface FrameCount {
  received: number;
  missing: number;
  duplicates: number;
}

export interface FrameLink {
  readonly kind: 'tap' | 'dgram';
  /** Why there is no tap, when kind is dgram. */
  readonly fallbackReason?: string;
  /** What to add to Vm.start for a NIC model with extra -device properties. */
  vmOptions(device: string, properties?: string): Pick<VmOptions, 'config' | 'wrapper'>;
  /** Starts counting frames of `etherType` from the guest; resolves when `count` arrived or after `timeoutMs`. */
  receiveFromGuest(count: number, etherType: number, timeoutMs: number): Promise<() => Promise<FrameCount>>;
  /**
   * Sends `count` frames towards the guest. With `window`, at most that many are in flight by the guest's
   * progress lines (a device that drops what finds no buffer, as QEMU's vmxnet3 does, needs it; virtio
   * makes the tap queue the frames instead). Over dgram there is always a window (UDP has no
   * backpressure), 200 unless given.
   */
  sendToGuest(vm: Vm, count: number, etherType: number, destination: string, window?: number): Promise<void>;
  close(): Promise<void>;
}

function frame(etherType: number, destination: string, sequence: number): Uint8Array {
  const bytes = new Uint8Array(60);
  bytes.set(
    destination.split(':').map((h) => parseInt(h, 16)),
    0,
  );
  bytes.set([0x02, 0, 0, 0, 0, 0x01], 6);
  const view = new DataView(bytes.buffer);
  view.setUint16(12, etherType);
  view.setUint32(14, sequence);
  return bytes;
}

/** Follows the guest's "<prefix>: progress N" lines as they arrive (never rescanning the whole output). */
function followProgress(vm: Vm): { readonly taken: number; stop(): void } {
  let taken = 0;
  let partial = '';
  const stop = vm.onOutput((text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /\w+: progress (\d+)/.exec(line);
      if (m) taken = Number(m[1]);
    }
  });
  return {
    get taken() {
      return taken;
    },
    stop,
  };
}

export async function openFrameLink(name: string): Promise<FrameLink> {
  // UOS_TEST_NO_TAP=1 exercises the fallback on machines that could make a tap.
  const tap = process.env.UOS_TEST_NO_TAP ? { unavailable: 'UOS_TEST_NO_TAP is set' } : await createTapLink(name);
  if (!('unavailable' in tap)) {
    // The tap queues frames for QEMU until the guest has buffers; make it deep enough for a whole burst.
    await tap.exec('ip', ['link', 'set', tap.tap, 'txqueuelen', '20000']);
    const tool = await buildRawFrames();
    return {
      kind: 'tap',
      vmOptions: (device, properties) => ({
        wrapper: tap.qemuWrapper,
        config: { net: [{ device, backend: 'tap', name: tap.tap, ...(properties ? { options: properties } : {}) } satisfies NetConfig] },
      }),
      async receiveFromGuest(count, etherType, timeoutMs) {
        const child = tap.spawn(tool, ['receive', tap.tap, etherType.toString(16), String(count), String(timeoutMs)]);
        let output = '';
        child.stdout!.on('data', (d: Buffer) => {
          output += d.toString();
        });
        child.stderr!.on('data', (d: Buffer) => {
          output += d.toString();
        });
        const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
        for (let waited = 0; !output.includes('listening') && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
        return async () => {
          await done;
          return parseReceiveReport(output);
        };
      },
      async sendToGuest(vm, count, etherType, destination, window) {
        const send = async (first: number, n: number): Promise<void> => {
          const args = ['send', tap.tap, String(n), etherType.toString(16), destination, '46', String(first)];
          const result = await tap.exec(tool, args, { timeoutMs: 120_000 });
          if (result.code !== 0) throw new Error(`raw-frames send failed: ${result.stderr}${result.stdout}`);
        };
        if (!window) return send(0, count);
        // Slices of a third of the window, each sent once the guest has taken enough of the ones before.
        const slice = Math.max(1, Math.floor(window / 3));
        const progress = followProgress(vm);
        try {
          for (let first = 0; first < count; first += slice) {
            const n = Math.min(slice, count - first);
            for (let waited = 0; first + n - progress.taken > window; waited += 5) {
              if (waited > 30_000) throw new Error(`the guest stopped taking frames at ${progress.taken}`);
              await new Promise((r) => setTimeout(r, 5));
            }
            await send(first, n);
          }
        } finally {
          progress.stop();
        }
      },
      close: () => tap.close(),
    };
  }
  const dgram = await createDgramLink();
  return {
    kind: 'dgram',
    fallbackReason: tap.unavailable,
    vmOptions: (device, properties) => ({
      config: { net: [{ device, backend: 'dgram', name: dgram.netdev, ...(properties ? { options: properties } : {}) }] },
    }),
    async receiveFromGuest(count, etherType, timeoutMs) {
      const seen = new Uint8Array(count);
      let received = 0;
      let duplicates = 0;
      let finish: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const stop = dgram.onFrame((f) => {
        if (f.length < 18 || ((f[12]! << 8) | f[13]!) !== etherType) return;
        const sequence = new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(14);
        if (sequence >= count) return;
        if (seen[sequence]) duplicates++;
        else {
          seen[sequence] = 1;
          if (++received === count) finish();
        }
      });
      const timer = setTimeout(finish, timeoutMs);
      return async () => {
        await finished;
        clearTimeout(timer);
        stop();
        return { received, missing: count - received, duplicates };
      };
    },
    async sendToGuest(vm, count, etherType, destination, window = 200) {
      // UDP has no backpressure: keep the frames in flight under what QEMU's socket buffer holds.
      const progress = followProgress(vm);
      try {
        for (let sequence = 0; sequence < count; sequence++) {
          for (let waited = 0; sequence - progress.taken >= window; waited++) {
            if (waited > 30_000) throw new Error(`the guest stopped taking frames at ${progress.taken}`);
            await new Promise((r) => setTimeout(r, 1));
          }
          dgram.send(frame(etherType, destination, sequence));
        }
      } finally {
        progress.stop();
      }
    },
    close: () => dgram.close(),
  };
}
