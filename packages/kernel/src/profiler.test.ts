import { UosError } from '@uos/errors';
import { describe, expect, it } from 'vitest';
import { parseTop, profiler } from './profiler.js';

describe('profiler', () => {
  it('reads the platform flat top list into entries with their share of all samples', () => {
    // biome-ignore format: one entry per line
    const flat = [
      400, 3, 997, 1, 0, 1200,
      'hotLoop', 'js', 'service.ts', 5, 300,
      '(idle)', 'idle', '', 0, 60,
      'js_checksum_sum', 'native', '', 0, 40,
    ];
    const { status, entries } = parseTop(flat);
    expect(status).toEqual({ samples: 400, lost: 3, hz: 997, running: true, wholeRun: false, samplingUs: 1200 });
    expect(entries).toEqual([
      { name: 'hotLoop', kind: 'js', url: 'service.ts', line: 5, samples: 300, share: 0.75 },
      { name: '(idle)', kind: 'idle', url: '', line: 0, samples: 60, share: 0.15 },
      { name: 'js_checksum_sum', kind: 'native', url: '', line: 0, samples: 40, share: 0.1 },
    ]);
  });

  it('gives no shares before any sample', () => {
    expect(parseTop([0, 0, 0, 0, 0, 0])).toEqual({
      status: { samples: 0, lost: 0, hz: 0, running: false, wholeRun: false, samplingUs: 0 },
      entries: [],
    });
  });

  it.each([0, -5, 1.5, 20_001, Number.NaN])('refuses a sampling rate of %s Hz before touching the platform', (hz) => {
    let error: unknown;
    try {
      profiler.start({ hz });
    } catch (caught) {
      error = caught;
    }
    expect(UosError.isInstance(error)).toBe(true);
    expect((error as UosError).code).toBe('profiler-rate-invalid');
  });

  it.each([-1, 2.5, 1001])('refuses top(%s)', (n) => {
    expect(() => profiler.top(n)).toThrow(/top\(n\) takes a whole number/);
  });

  it('needs the platform (outside an image it says so)', () => {
    expect(() => profiler.start()).toThrow(/only inside a uOS image/);
  });
});
