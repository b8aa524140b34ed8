// The TCP memory part of `pnpm bench` (issue 16): the guest of test/integration/net/memory (echo on 7)
// in -m 16M over a tap device in a network namespace of its own, idle connections from Linux
// (test/tools/tcp-crowd.mjs). Figures:
//   tcp_idle_connection_bytes   the heap (after a collection) per idle established connection: the heap
//                               with 500 idle connections open less the heap before, over 500
//   tcp_connections_at_budget_16m  idle connections the guest holds in -m 16M when its memory budget starts
//                               refusing (connections opened 64 at a time until 64 in a row go unanswered
//                               for 10 s); read it with tcp_refused_memory > 0, else the ramp stopped for
//                               something else (a host too busy to answer within 10 s)
//   tcp_budget_16m_bytes        the budget the stack sized itself in -m 16M (half the free memory when the Inet is made)
//   tcp_refused_memory          SYNs the guest dropped for memory during that ramp
// Needs root (namespace, tap); otherwise every figure is null with the reason.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Vm, buildImage } from '@uos/vmrunner';
import { openTapNamespace } from './bench-tap.mjs';

const GUEST = '10.0.2.15';
const MAC = '52:54:00:00:00:17';
const IDLE = 500;

function unavailable(reason) {
  return { tcp_idle_connection_bytes: null, tcp_connections_at_budget_16m: null, tcp_memory_unavailable: reason };
}

export async function tcpMemoryOverTap({ root }) {
  const tap = openTapNamespace('benchmem', { guest: GUEST, mac: MAC, sysctls: ['net.ipv4.ip_local_port_range=10000 65000'] });
  if (tap.error) return unavailable(tap.error);
  const { inNamespace } = tap;
  const crowd = join(root, 'test', 'tools', 'tcp-crowd.mjs');
  const crowds = new Set();
  let vm;
  let tag = 0;
  const memory = async () => {
    const t = `b${++tag}`;
    vm.write(`memory ${t}\n`);
    const line = await vm.waitFor(`net: memory ${t} `, 60_000);
    return JSON.parse(line.slice(line.indexOf('{')));
  };
  /** Starts tcp-crowd; resolves with the child and its first line (the connections opened). */
  const open = (args, env) =>
    new Promise((resolve, reject) => {
      const child = spawn('env', [...env, ...inNamespace, process.execPath, crowd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      crowds.add(child);
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve({ child, opened: JSON.parse(out.split('\n')[0]) });
      });
      child.on('exit', (code) => {
        crowds.delete(child);
        reject(new Error(`tcp-crowd ended (${code}) before it opened its connections`));
      });
    });
  /** Ends a crowd's connections (resets) and waits for it to exit. */
  const close = (child) =>
    new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGUSR1');
    });
  const settle = async () => {
    for (let i = 0; i < 60; i++) {
      const m = await memory();
      if (m.connections + m.timeWait === 0) return m;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error('connections still open a minute after their clients closed them');
  };
  try {
    const build = await buildImage({ serviceDir: join(root, 'test', 'integration', 'net', 'memory') });
    vm = await Vm.start({
      image: build.image,
      machine: 'pc',
      accel: 'tcg',
      mem: '16M',
      args: ['static', `${GUEST}/24`, '10.0.2.1', 'timewait=2000'],
      wrapper: inNamespace,
      config: { net: [{ device: 'virtio-net-pci', backend: 'tap', name: 'tap0', mac: MAC }] },
    });
    await vm.waitFor('net: ready', 60_000);
    // A few connections first, so what a first use allocates once is in the baseline.
    // Ended with FINs (Linux retransmits them; a reset lost in a burst would leave a connection behind).
    const warm = await open(['idle', GUEST, '7', '20', '8'], []);
    await close(warm.child);
    const base = await settle();

    const idle = await open(['idle', GUEST, '7', String(IDLE), '64'], []);
    const held = await memory();
    await close(idle.child);
    const idleOpened = held.connections;
    await settle();

    const ramp = await open(
      ['idle', GUEST, '7', '4000', '64'],
      ['TCP_CROWD_RESET=1', 'TCP_CROWD_STOP_AFTER=64', 'TCP_CROWD_CONNECT_MS=10000'],
    );
    const full = await memory();
    await close(ramp.child);
    return {
      tcp_idle_connection_bytes: idleOpened === IDLE ? Math.round((held.heapUsed - base.heapUsed) / IDLE) : null,
      tcp_connections_at_budget_16m: full.connections,
      tcp_budget_16m_bytes: base.budget,
      tcp_refused_memory: full.refusedMemory,
      tcp_memory_heap_16m: { baseline: base.heapUsed, idle500: held.heapUsed, atBudget: full.heapUsed, total: base.totalBytes },
    };
  } catch (error) {
    return unavailable(`failed: ${error.message}`);
  } finally {
    for (const child of [...crowds]) child.kill('SIGTERM');
    await vm?.kill();
    tap.close();
  }
}
