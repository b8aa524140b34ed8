import '@uos/driver-virtionet';
import type { VirtioNet } from '@uos/driver-virtionet';
import { type Nic, formatMac, nic } from '@uos/hw';
import { os, service } from '@uos/kernel';

// Raw Ethernet frames under the test's control, typed on the serial console:
//   send <count> <ethertype-hex> <destination-mac>   frames with a big-endian sequence number after the header
//   expect <count> <ethertype-hex>                    counts arriving frames by sequence number (progress every 50)
//   stats | quit
const MIN_FRAME = 60;

function parseMac(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}

function send(eth0: Nic, count: number, etherType: number, destination: Uint8Array): void {
  const frame = new Uint8Array(MIN_FRAME);
  const view = new DataView(frame.buffer);
  frame.set(destination, 0);
  frame.set(eth0.mac, 6);
  view.setUint16(12, etherType);
  let sequence = 0;
  const started = os.uptime();
  const pump = (): void => {
    while (sequence < count) {
      view.setUint32(14, sequence);
      const result = eth0.transmit(frame);
      if (!result.ok) {
        if (result.error === 'busy') return; // onWritable resumes
        console.log(`virtio: send failed: ${result.error}`);
        return;
      }
      sequence++;
    }
    stop();
    console.log(`virtio: sent ${count} in ${Math.round(os.uptime() - started)} ms, busy ${eth0.stats.txBusy.value}`);
  };
  const stop = eth0.onWritable(pump);
  pump();
}

function expect(eth0: Nic, count: number, etherType: number): void {
  const seen = new Uint8Array(count);
  let received = 0;
  let duplicates = 0;
  let started = 0;
  const stop = eth0.onReceive((frame) => {
    if (frame.length < 18 || ((frame[12]! << 8) | frame[13]!) !== etherType) return;
    const sequence = ((frame[14]! << 24) | (frame[15]! << 16) | (frame[16]! << 8) | frame[17]!) >>> 0;
    if (!received) started = os.uptime();
    if (sequence >= count) return;
    if (seen[sequence]) {
      duplicates++;
      return;
    }
    seen[sequence] = 1;
    // Progress lets the sender keep a bounded number of frames in flight (the host side drops on overflow).
    if (++received % 50 === 0 && received < count) console.log(`virtio: progress ${received}`);
    if (received === count) {
      stop();
      console.log(`virtio: received ${count} in ${Math.round(os.uptime() - started)} ms, missing 0, duplicates ${duplicates}`);
    }
  });
  report = () => console.log(`virtio: received ${received} so far, missing ${count - received}, duplicates ${duplicates}`);
  console.log(`virtio: expecting ${count}`);
}

let report = (): void => console.log('virtio: nothing expected');

export default service({
  start() {
    const eth0 = nic('eth0') as VirtioNet | undefined;
    if (!eth0) {
      console.log('virtio: no eth0');
      return;
    }
    let line = '';
    os.stdin.onData((text) => {
      line += text;
      let end: number;
      while ((end = line.search(/[\r\n]/)) >= 0) {
        const [command, ...words] = line.slice(0, end).trim().split(/\s+/);
        line = line.slice(end + 1);
        if (command === 'send') send(eth0, Number(words[0]), parseInt(words[1]!, 16), parseMac(words[2]!));
        else if (command === 'expect') expect(eth0, Number(words[0]), parseInt(words[1]!, 16));
        else if (command === 'report') report();
        else if (command === 'stats')
          console.log(
            `virtio: stats ${JSON.stringify({ rx: eth0.stats.rxPackets.value, tx: eth0.stats.txPackets.value, dropped: eth0.stats.rxDropped.value, irq: eth0.stats.interrupts.value })}`,
          );
        else if (command === 'quit') os.exit(0);
      }
    });
    console.log(`virtio: ready ${eth0.name} ${formatMac(eth0.mac)} ${eth0.transport} ${eth0.interruptMode} link ${eth0.linkUp}`);
  },
});
