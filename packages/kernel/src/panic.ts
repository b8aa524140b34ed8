import { isRunningOnUos, native } from '@uos/x86';

/**
 * Ends the service with a panic report: `reason`, then the error with its stack mapped to TypeScript
 * file:line, and the jsPanic exit status. Outside an image (unit tests) it throws the error instead.
 */
export function panic(reason: string, error?: unknown): never {
  if (!isRunningOnUos()) throw error instanceof Error ? error : new Error(`${reason} ${String(error)}`);
  return native().panic(reason, error);
}
