/**
 * The guest side of the raw-frame tests of NIC drivers (virtio-net, vmxnet3): Ethernet frames under the
 * test's control, typed on the serial console. Every answer is one line starting with `<prefix>: `.
 *
 *   send <count> <ethertype-hex> <destination-mac>   frames with a big-endian sequence number after the header
 *   expect <count> <ethertype-hex>                    counts arriving frames by sequence number (progress every 50)
 *   report | stats | quit
 */
import { type Nic, formatMac, nic } from '@uos/hw';
import { os, service } from '@uos/kernel';

const MIN_FRAME = 60;

function parseMac(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}

/**
 * The service: `describe(eth0)` adds the driver's details to the ready line (`<prefix>: ready eth0 <mac>
 * <details> link <up>`); `extraStats(eth0)` adds fields to the stats line.
 */
export function rawFrameService(
  prefix: string,
  describe: (eth0: Nic) => string,
  extraStats: (eth0: Nic) => Record<string, number> = () => ({}),
): ReturnType<typeof service> {
  const say = (text: string): void => console.log(`${prefix}: ${text}`);
  let report = (): void => say('nothing expected');

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
          say(`send failed: ${result.error}`);
          return;
        }
        sequence++;
      }
      stop();
      say(`sent ${count} in ${Math.round(os.uptime() - started)} ms, busy ${eth0.stats.txBusy.value}`);
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
      // Progress lets the sender keep a bounded number of frames in flight.
      if (++received % 50 === 0 && received < count) say(`progress ${received}`);
      if (received === count) {
        stop();
        say(`received ${count} in ${Math.round(os.uptime() - started)} ms, missing 0, duplicates ${duplicates}`);
      }
    });
    report = () => say(`received ${received} so far, missing ${count - received}, duplicates ${duplicates}`);
    say(`expecting ${count}`);
  }

  return service({
    start() {
      const eth0 = nic('eth0');
      if (!eth0) {
        say('no eth0');
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
            say(
              `stats ${JSON.stringify({
                rx: eth0.stats.rxPackets.value,
                tx: eth0.stats.txPackets.value,
                dropped: eth0.stats.rxDropped.value,
                irq: eth0.stats.interrupts.value,
                ...extraStats(eth0),
              })}`,
            );
          else if (command === 'quit') os.exit(0);
        }
      });
      say(`ready ${eth0.name} ${formatMac(eth0.mac)} ${describe(eth0)} link ${eth0.linkUp}`);
    },
  });
}
