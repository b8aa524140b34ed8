import { native } from '@uos/x86';
import { eventLoop } from './event-loop.js';
import { TextDecoder } from './native-text-codec.js';

const COM1 = 0x3f8;
const COM1_IRQ = 4;
const RECEIVE = 0; // RBR
const INTERRUPT_ENABLE = 1; // IER
const MODEM_CONTROL = 4; // MCR
const LINE_STATUS = 5; // LSR
const DATA_READY = 0x01;
const OUT2 = 0x08; // gates the UART's interrupt line on PCs

export type InputListener = (text: string) => void;

const listeners = new Set<InputListener>();
let unsubscribe: (() => void) | undefined;
const decoder = new TextDecoder();

function drain(): void {
  const bindings = native();
  const bytes: number[] = [];
  // Bounded: a UART that always claims data cannot hang the loop.
  for (let i = 0; i < 4096 && bindings.in8(COM1 + LINE_STATUS) & DATA_READY; i++) bytes.push(bindings.in8(COM1 + RECEIVE));
  if (!bytes.length) return;
  const text = decoder.decode(new Uint8Array(bytes), { stream: true });
  if (text) for (const listener of [...listeners]) listener(text);
}

/**
 * Text typed into the serial console (COM1), delivered from the event loop after its receive interrupt
 * (ISA IRQ 4). While anyone listens, the service stays alive.
 */
export const stdin = {
  /** Calls `listener` with each piece of text received; returns the function that stops it. */
  onData(listener: InputListener): () => void {
    listeners.add(listener);
    if (!unsubscribe) {
      const bindings = native();
      const vector = bindings.irqRouteIsa(COM1_IRQ);
      unsubscribe = eventLoop().subscribe(vector, drain, { keepAlive: true });
      bindings.out8(COM1 + MODEM_CONTROL, bindings.in8(COM1 + MODEM_CONTROL) | OUT2);
      bindings.out8(COM1 + INTERRUPT_ENABLE, 0x01); // received data available
      drain(); // bytes that arrived before the interrupt was on
    }
    return () => {
      listeners.delete(listener);
      if (!listeners.size && unsubscribe) {
        native().out8(COM1 + INTERRUPT_ENABLE, 0);
        unsubscribe();
        unsubscribe = undefined;
      }
    };
  },
};
