import { os, service } from '@uos/kernel';
import { statman } from '@uos/statman';

export default service({
  start() {
    console.log('memory: first line for the log');
    const map = os.memoryMap();
    const byKind = (kind: string) => map.regions.find((r) => r.kind === kind);
    for (const kind of ['text', 'rodata', 'data', 'stacks', 'payload', 'guard']) {
      const r = byKind(kind)!;
      console.log(`memory: ${kind} ${r.access} ${r.end - r.start > 0} ${r.start.toString(16)}`);
    }
    console.log(`memory: nx ${map.nx}, ram regions ${map.regions.filter((r) => r.kind === 'ram').length > 0}`);
    const before = os.heapUsage();
    const keep: string[] = [];
    for (let i = 0; i < 20000; i++) keep.push(`string ${i}`);
    const after = os.heapUsage();
    console.log(
      `memory: heap grew ${after.usedBytes > before.usedBytes}, peak ${after.peakBytes >= after.usedBytes}, blocks ${after.blocks > before.blocks}`,
    );
    keep.length = 0;
    const snapshot = statman.snapshot();
    const names = Object.keys(snapshot)
      .filter((n) => n.startsWith('kernel.'))
      .sort();
    console.log(`memory: stats ${names.join(' ')}`);
    console.log(`memory: used bytes stat ${snapshot['kernel.heap.used_bytes']! > 0}`);
    console.log(`memory: log has first line ${os.log.read().includes('memory: first line for the log')}`);
  },
});
