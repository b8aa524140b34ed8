import { native } from '@uos/x86';

/** Receives everything written to stdout (console output included). */
export type StdoutWriter = (text: string) => void;

const serialWriter: StdoutWriter = (text) => native().write(text);
const writers: StdoutWriter[] = [serialWriter];

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
