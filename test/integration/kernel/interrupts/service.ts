import { irq, os, service } from '@uos/kernel';

// Echoes what the test types into the serial console: each line arrives through the UART's receive
// interrupt (ISA IRQ 4), routed by the I/O APIC and run from the event loop.
export default service({
  start() {
    let buffered = '';
    const stop = os.stdin.onData((text) => {
      buffered += text;
      let newline: number;
      while ((newline = buffered.search(/\r|\n/)) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        if (line === 'quit') {
          const counts = irq.counts();
          console.log(`interrupts: COM1 vector 36 fired ${counts.get(36) ?? 0} times`);
          stop();
          return;
        }
        console.log(`interrupts: got "${line}"`);
      }
    });
    console.log('interrupts: ready');
  },
});
