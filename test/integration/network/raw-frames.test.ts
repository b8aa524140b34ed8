import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TapLink, buildRawFrames, createTapLink, parseReceiveReport, watchProcess } from '../network.js';

// A namespace of our own with a veth pair (veth0 <-> veth1) in it: frames sent on one end arrive on the other.
const made = await createTapLink('raw-frames');
const unavailable = 'unavailable' in made ? made.unavailable : undefined;
if (unavailable) console.warn(`raw-frames: skipping the tests that need a network namespace: ${unavailable}`);
const link = unavailable ? undefined : (made as TapLink);
afterAll(() => link?.close());

const ETHERTYPE = '88b5'; // IEEE local experimental
const OTHER_ETHERTYPE = '88b6';
let rawFrames: string;

beforeAll(async () => {
  rawFrames = await buildRawFrames();
  if (!link) return;
  for (const step of [
    ['ip', 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1'],
    ['ip', 'link', 'set', 'veth0', 'up'],
    ['ip', 'link', 'set', 'veth1', 'up'],
  ]) {
    const result = await link.exec(step[0]!, step.slice(1));
    expect(result, `${step.join(' ')} in ${link.namespace}`).toMatchObject({ code: 0 });
  }
});

/** Starts `raw-frames receive` on veth1 and resolves once it is bound. */
async function receive(ethertype: string, count: number, timeoutMs: number): Promise<ReturnType<typeof watchProcess>> {
  const receiver = watchProcess(link!.spawn(rawFrames, ['receive', 'veth1', ethertype, String(count), String(timeoutMs)]));
  await receiver.waitForOutput('listening on veth1');
  return receiver;
}

describe('raw-frames', () => {
  it.skipIf(unavailable)('counts 1000 frames sent across a veth pair: none missing, none repeated', async () => {
    const receiver = await receive(ETHERTYPE, 1000, 20_000);
    const sent = await link!.exec(rawFrames, ['send', 'veth0', '1000', ETHERTYPE, 'ff:ff:ff:ff:ff:ff']);
    expect(sent).toMatchObject({ code: 0, stdout: 'sent 1000\n' });
    const result = await receiver.ended;
    expect(result.code, result.stderr).toBe(0);
    expect(parseReceiveReport(result.stdout)).toEqual({
      received: 1000,
      firstSequence: 0,
      lastSequence: 999,
      missing: 0,
      duplicates: 0,
      outOfRange: 0,
    });
  });

  it.skipIf(unavailable)('counts only its own ethertype, with unicast frames to another MAC and full-size payloads', async () => {
    const receiver = await receive(ETHERTYPE, 300, 20_000);
    expect(await link!.exec(rawFrames, ['send', 'veth0', '200', OTHER_ETHERTYPE, 'ff:ff:ff:ff:ff:ff'])).toMatchObject({ code: 0 });
    expect(await link!.exec(rawFrames, ['send', 'veth0', '300', ETHERTYPE, '02:00:00:00:00:01', '1500'])).toMatchObject({
      code: 0,
      stdout: 'sent 300\n',
    });
    const result = await receiver.ended;
    expect(parseReceiveReport(result.stdout)).toEqual({
      received: 300,
      firstSequence: 0,
      lastSequence: 299,
      missing: 0,
      duplicates: 0,
      outOfRange: 0,
    });
  });

  it.skipIf(unavailable)('sends slices that start at a given sequence number, which add up to the whole', async () => {
    const receiver = await receive(ETHERTYPE, 30, 20_000);
    for (const [first, count] of [
      [0, 10],
      [10, 15],
      [25, 5],
    ] as const) {
      expect(
        await link!.exec(rawFrames, ['send', 'veth0', String(count), ETHERTYPE, 'ff:ff:ff:ff:ff:ff', '46', String(first)]),
      ).toMatchObject({ code: 0, stdout: `sent ${count}\n` });
    }
    const result = await receiver.ended;
    expect(parseReceiveReport(result.stdout)).toMatchObject({
      received: 30,
      firstSequence: 0,
      lastSequence: 29,
      missing: 0,
      duplicates: 0,
    });
  });

  it.skipIf(unavailable)('reports what is missing and what repeats, and exits with 3 on timeout', async () => {
    const receiver = await receive(ETHERTYPE, 20, 1500);
    // Two rounds of 0 … 9: ten duplicates, and 10 … 19 never come.
    for (let round = 0; round < 2; round++)
      expect(await link!.exec(rawFrames, ['send', 'veth0', '10', ETHERTYPE, 'ff:ff:ff:ff:ff:ff'])).toMatchObject({ code: 0 });
    const result = await receiver.ended;
    expect(result.code).toBe(0); // 20 frames arrived: the count is of frames, not of distinct sequence numbers
    expect(parseReceiveReport(result.stdout)).toEqual({
      received: 20,
      firstSequence: 0,
      lastSequence: 9,
      missing: 10,
      duplicates: 10,
      outOfRange: 0,
    });

    const idle = await receive(ETHERTYPE, 5, 300);
    const timedOut = await idle.ended;
    expect(timedOut.code).toBe(3);
    expect(timedOut.stdout).toContain('received 0, first seq -, last seq -, missing 5, duplicates 0');
  });

  it('says clearly what is wrong and exits non-zero', () => {
    const run = (...args: string[]) => spawnSync(rawFrames, args, { encoding: 'utf8' });
    expect(run()).toMatchObject({ status: 2, stderr: expect.stringContaining('usage:') });
    expect(run('send', 'no-such-if', '1', ETHERTYPE, 'ff:ff:ff:ff:ff:ff')).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('raw-frames: no interface named "no-such-if"'),
    });
    expect(run('send', 'lo', '1', '0800z', 'ff:ff:ff:ff:ff:ff')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('ethertype must be hexadecimal'),
    });
    expect(run('send', 'lo', '1', '05dc', 'ff:ff:ff:ff:ff:ff')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('802.3 lengths'),
    });
    expect(run('send', 'lo', '1', ETHERTYPE, 'ff:ff:ff:ff:ff')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('destination MAC must look like'),
    });
    expect(run('send', 'lo', '0', ETHERTYPE, 'ff:ff:ff:ff:ff:ff')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('count must be a whole number'),
    });
    expect(run('send', 'lo', '1', ETHERTYPE, 'ff:ff:ff:ff:ff:ff', '2')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('payload size must be a whole number from 4'),
    });
    expect(run('send', 'lo', '1', ETHERTYPE, 'ff:ff:ff:ff:ff:ff', '46', '-1')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('first sequence must be a whole number'),
    });
    expect(run('receive', 'lo', ETHERTYPE, 'many', '100')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('count must be a whole number'),
    });
  });
});
