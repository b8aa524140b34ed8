import { type StatHandle, statman } from '@uos/statman';

/**
 * The driver's own counters, `<ifname>.vmxnet3.<counter>` in statman, beside the `<ifname>.nic.*` ones
 * every NIC has.
 */
export const Vmxnet3Stat = {
  /** Receive completions with the error bit (a frame larger than a buffer, a truncated frame). */
  rxErrors: 'rx_errors',
  /** Event interrupts handled (link changes, queue errors, device changes). */
  events: 'events',
  /** Queue errors the device reported (it stopped a queue). */
  queueErrors: 'queue_errors',
  /** Times the driver reset and re-activated the device after an error. */
  resets: 'resets',
  linkChanges: 'link_changes',
} as const;

export class Vmxnet3Stats {
  readonly rxErrors: StatHandle;
  readonly events: StatHandle;
  readonly queueErrors: StatHandle;
  readonly resets: StatHandle;
  readonly linkChanges: StatHandle;

  constructor(ifname: string) {
    const counter = (name: string): StatHandle => statman.getOrCreate(`${ifname}.vmxnet3.${name}`, { type: 'u64' });
    this.rxErrors = counter(Vmxnet3Stat.rxErrors);
    this.events = counter(Vmxnet3Stat.events);
    this.queueErrors = counter(Vmxnet3Stat.queueErrors);
    this.resets = counter(Vmxnet3Stat.resets);
    this.linkChanges = counter(Vmxnet3Stat.linkChanges);
  }
}
