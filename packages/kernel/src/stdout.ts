import { native } from '@uos/x86';
import { LogRing } from './log-ring.js';

/** Receives everything written to stdout (console output included). */
export type StdoutWriter = (text: string) => void;

/** The last 16 KiB of stdout, kept from boot on (os.log). */
export const stdoutLog = new LogRing(16 * 1024);

const serialWriter: StdoutWriter = (text) => native().write(text);
const writers: StdoutWriter[] = [serialWriter, (text) => stdoutLog.write(text)];

/** Writes to every stdout writer; the serial console is the first. */
export function writeStdout(text: string): void {
  for (const writer of writers) writer(text);
}

/** Adds a writer beside the serial console; returns a function that removes it. */
export function addStdout(writer: StdoutWriter): () => void {
  writers.push(writer);
  return () => {
    const index = writers.indexOf(writer);
    if (index >= 0) writers.splice(index, 1);
  };
}
