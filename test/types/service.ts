// A service as a consumer writes it, type-checked against the published declarations (dist/*.d.ts):
// every public entry of the packages that run in an image, and the uOS globals from
// "types": ["@uos/kernel/globals"]. scripts/check-consumer-types.mjs runs it.
import '@uos/driver-virtionet';
import { type Vmxnet3, Vmxnet3Error, configureVmxnet3 } from '@uos/driver-vmxnet3';
import { UosError } from '@uos/errors';
import { type Nic, nic, nics } from '@uos/hw';
import { type Service, os, service, timers } from '@uos/kernel';
import { DhcpClient, DnsResolver, Inet, echo } from '@uos/net';
import { LoopbackDevice } from '@uos/net/test';
import { statman } from '@uos/statman';
import { cpuid, rdtsc } from '@uos/x86';

const started: number = performance.now();
const bytes: Uint8Array = new TextEncoder().encode('uOS');
const text: string = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
const id: string = crypto.randomUUID();
const timer: ReturnType<typeof setTimeout> = setTimeout(() => console.log(text, id), 10);
clearTimeout(timer);
queueMicrotask(() => console.info(started));

configureVmxnet3({ interrupts: 'msix', receiveRingSize: 1024 });

const definition: Service = service({
  async start(args: string[]) {
    const all: readonly Nic[] = nics();
    const eth0 = nic('eth0');
    if (!eth0) throw new UosError('no-nic', `no eth0 among ${all.length} NICs`);
    if (eth0.driver === 'vmxnet3') console.log((eth0 as Vmxnet3).deviceCounters().receive.outOfBuffers, Vmxnet3Error.kind);
    const inet = new Inet(eth0);
    const lease = await new DhcpClient(inet).start();
    if (!lease.ok) os.exit(1);
    inet.tcp.listen(7, echo);
    const answer = await new DnsResolver(inet).resolve(args[0] ?? 'example.lan');
    console.log(answer.ok, cpuid(0).eax, rdtsc() > 0n, Object.keys(statman.snapshot()).length);
    timers.oneshot(1000, () => os.shutdown());
    void LoopbackDevice;
  },
});
export default definition;
