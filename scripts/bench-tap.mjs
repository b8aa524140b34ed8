// The network the tap parts of `pnpm bench` share: a namespace of their own (named after the part and this
// process) holding a tap device `tap0` at 10.0.2.1/24, optionally with the guest's MAC fixed in the
// neighbour table (a guest too busy to answer ARP must not turn into EHOSTUNREACH) and sysctls set inside
// it. Needs root; without it, or when a step fails, the part reports the reason instead of figures.
import { spawnSync } from 'node:child_process';

/** Runs a command; its result with the output as text. */
export const sh = (args, timeout = 300_000) => spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout });

/**
 * Makes the namespace and its tap. Resolves `{ inNamespace, close }` (`inNamespace` prefixes a command to
 * run it there; `close()` deletes the namespace and so the tap), or `{ error }` with why not.
 */
export function openTapNamespace(name, { guest, mac, sysctls = [] } = {}) {
  if (process.getuid?.() !== 0) return { error: 'needs root for a network namespace and a tap device' };
  const namespace = `uos-${name}-${process.pid}`;
  const made = sh(['ip', 'netns', 'add', namespace]);
  if (made.status !== 0) return { error: `ip netns add failed: ${made.stderr.trim()}` };
  const inNamespace = ['ip', 'netns', 'exec', namespace];
  const close = () => sh(['ip', 'netns', 'delete', namespace]);
  const steps = [
    ...sysctls.map((setting) => ['sysctl', '-w', setting]),
    ['ip', 'link', 'set', 'lo', 'up'],
    ['ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap'],
    ['ip', 'address', 'add', '10.0.2.1/24', 'dev', 'tap0'],
    ['ip', 'link', 'set', 'tap0', 'up'],
    ...(guest && mac ? [['ip', 'neigh', 'replace', guest, 'lladdr', mac, 'dev', 'tap0', 'nud', 'permanent']] : []),
  ];
  for (const step of steps) {
    const result = sh([...inNamespace, ...step]);
    if (result.status !== 0) {
      close();
      return { error: `${step.join(' ')} failed: ${result.stderr.trim()}` };
    }
  }
  return { inNamespace, close };
}
