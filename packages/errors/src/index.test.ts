import { describe, expect, it } from 'vitest';
import { UosError } from './index.js';

type DemoCode = 'demo-broken' | 'demo-missing';
class DemoError extends UosError<DemoCode> {
  // Typed as string (not the literal) so that a subclass can name its own kind.
  static override readonly kind: string = 'DemoError';
}
class OtherError extends UosError<'other'> {
  static override readonly kind = 'OtherError';
}

describe('UosError', () => {
  it('carries a code, a message, a cause and its class name', () => {
    const cause = new Error('underneath');
    const error = new DemoError('demo-broken', 'the demo broke; run it again', { cause });
    expect(error.code).toBe('demo-broken');
    expect(error.message).toBe('the demo broke; run it again');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('DemoError');
    expect(DemoError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(Error);
    expect(new UosError('x', 'y').name).toBe('UosError');
  });

  it('has no cause property unless one was given', () => {
    expect('cause' in new DemoError('demo-missing', 'gone')).toBe(false);
  });

  it('is recognised across copies of a package by its Symbol.for marker and class name', () => {
    // A second copy of the class, as a bundle with two versions of a package would hold.
    class DemoErrorCopy extends UosError<DemoCode> {
      static override readonly kind = 'DemoError';
    }
    const fromCopy = new DemoErrorCopy('demo-missing', 'from the other copy');
    expect(fromCopy instanceof DemoError).toBe(false);
    expect(DemoError.isInstance(fromCopy)).toBe(true);
    expect(UosError.isInstance(fromCopy)).toBe(true);
    expect(OtherError.isInstance(fromCopy)).toBe(false);
  });

  it('counts an error of a subclass as one of its parent class too', () => {
    class DetailError extends DemoError {
      static override readonly kind = 'DetailError';
    }
    const error = new DetailError('demo-broken', 'in detail');
    expect(error.name).toBe('DetailError');
    expect(DetailError.isInstance(error)).toBe(true);
    expect(DemoError.isInstance(error)).toBe(true);
    expect(DetailError.isInstance(new DemoError('demo-broken', 'plain'))).toBe(false);
  });

  it('rejects values that are not uOS errors', () => {
    for (const value of [undefined, null, 0, 'demo-broken', new Error('plain'), { code: 'demo-broken' }]) {
      expect(UosError.isInstance(value)).toBe(false);
      expect(DemoError.isInstance(value)).toBe(false);
    }
  });
});
