import { UosError } from '@uos/errors';
import { describe, expect, it } from 'vitest';
import { irq } from './irq.js';

describe('irq.subscribe', () => {
  it.each([0, 14, 31, 255, 256, -1, 40.5, Number.NaN])('refuses vector %s before touching the platform', (vector) => {
    let error: unknown;
    try {
      irq.subscribe(vector, () => {});
    } catch (caught) {
      error = caught;
    }
    expect(UosError.isInstance(error)).toBe(true);
    expect((error as UosError).code).toBe('irq-vector-invalid');
  });

  it('needs the platform for a valid vector (outside an image it says so)', () => {
    expect(() => irq.subscribe(36, () => {})).toThrow(/only inside a uOS image/);
  });
});
