/**
 * @uos/net over the vmxnet3 driver, with the stack service and helpers of ../stack: a lease from
 * dnsmasq, names resolved through it, ping both ways, curl, and Linux TCP through the echo service under
 * loss, reordering and duplication. The echo moves 10 MB each way by default (the virtio-net test moves
 * 50 MB; under TCG the full size takes minutes); UOS_TEST_VMXNET3_ECHO_MB=50 runs the full 50 MB.
 */
import { ExitStatus, type Vm } from '@uos/vmrunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot } from '../../harness.js';
import { HOST, echoUnderFaults, guestStats, stackDir, stackTapLink, bootForLease, leaseOf } from '../stack/stack-vm.js';

const DEVICE = 'vmxnet3';
const ECHO_MB = Number(process.env.UOS_TEST_VMXNET3_ECHO_MB ?? 10);
if (!(ECHO_MB > 0)) throw new Error(`UOS_TEST_VMXNET3_ECHO_MB must be a number of megabytes, got ${process.env.UOS_TEST_VMXNET3_ECHO_MB}`);

const link = await stackTapLink('net-vmxnet3', '@uos/net over vmxnet3 (skipped: the virtio-net test covers QEMU user networking)');

describe.skipIf(!link)('@uos/net over vmxnet3 on a tap device', () => {
  afterAll(() => link?.close());

  describe('with dnsmasq', () => {
    let vm: Vm;
    let guest = '';
    afterAll(() => vm?.kill());
    beforeAll(async () => {
      vm = await bootForLease(link!, DEVICE, (options) => boot(stackDir, options));
      guest = await leaseOf(vm);
      expect(vm.output).toMatch(/^ {2}00:0[0-9a-f]\.0 {2}15ad:07b0 {2}0200 {2}Ethernet controller {5}vmxnet3 \(eth0\)$/m);
    }, 120_000);

    it('resolves a name through dnsmasq', async () => {
      vm.write('resolve chain.uos.test\n');
      expect(await vm.waitFor('chain.uos.test')).toBe('net: resolved chain.uos.test 10.0.2.77');
    });

    it('answers ping from Linux, and pings Linux', async () => {
      const ping = await link!.exec('ping', ['-c', '5', '-i', '0.2', '-W', '2', guest]);
      expect(ping.stdout).toContain('5 packets transmitted, 5 received');
      vm.write(`ping ${HOST} 3\n`);
      expect(await vm.waitFor(`net: ping ${HOST} `)).toMatch(/^net: ping \S+ \d+\.\d+ \d+\.\d+ \d+\.\d+$/);
    });

    it('serves HTTP to curl, and its NIC counters add up', async () => {
      const curl = await link!.exec('curl', ['-sS', '-m', '10', '-i', `http://${guest}/hello`]);
      expect(curl.code).toBe(0);
      expect(curl.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(curl.stdout).toContain('\r\n\r\nhello from uOS: /hello\n');
      const stats = await guestStats(vm);
      expect(stats['eth0.nic.rx_packets']).toBeGreaterThan(10);
      expect(stats['eth0.nic.tx_packets']).toBeGreaterThan(10);
      expect(stats['eth0.nic.interrupts']).toBeGreaterThan(0);
      expect([stats['eth0.vmxnet3.resets'], stats['eth0.vmxnet3.rx_errors'], stats['eth0.nic.tx_errors']]).toEqual([0, 0, 0]);
      vm.write('quit\n');
      await vm.expectExit(ExitStatus.ok);
    });
  });

  it(`moves ${ECHO_MB} MB each way through the echo service with 3% loss, 5% reordering and 1% duplication`, async () => {
    const bytes = Math.round(ECHO_MB * 1024 * 1024);
    const { vm, stats, report, ms, kind } = await echoUnderFaults(link!, DEVICE, bytes, (options) => boot(stackDir, options));
    console.info(
      `vmxnet3: echo ${ECHO_MB} MB each way under faults (${kind}) in ${ms} ms; ` +
        `guest retransmits ${stats['eth0.tcp.retransmits']}, out of order ${stats['eth0.tcp.out_of_order']}, duplicates ${stats['eth0.tcp.duplicate_segments']}, ` +
        `device resets ${stats['eth0.vmxnet3.resets']}\n${report}`,
    );
    // The faults were real: the guest saw them; and the driver never had to reset the device.
    expect(stats['eth0.tcp.retransmits']).toBeGreaterThan(0);
    expect(stats['eth0.tcp.out_of_order']).toBeGreaterThan(0);
    expect(stats['eth0.vmxnet3.resets']).toBe(0);
    vm.write('quit\n');
    await vm.expectExit(ExitStatus.ok);
  }, 1_800_000);
});
