import { describe, expect, it } from 'vitest';
import { chooseEncoding, ifRangeAllows, noneMatch, parseRange } from './negotiation.js';

describe('Accept-Encoding', () => {
  const both = ['br', 'gzip'] as const;
  it.each([
    [null, both, 'identity'],
    ['', both, 'identity'],
    ['gzip, deflate, br, zstd', both, 'br'],
    ['gzip, deflate, br', ['gzip'], 'gzip'],
    ['gzip, deflate', both, 'gzip'],
    ['x-gzip', both, 'gzip'],
    ['GZIP;Q=0.5, BR;q=0.4', both, 'gzip'],
    ['br;q=0, gzip', both, 'gzip'],
    ['br;q=0, gzip;q=0', both, 'identity'],
    ['*', both, 'br'],
    ['*;q=0.1, br;q=0', both, 'gzip'],
    ['identity', both, 'identity'],
    ['identity;q=1, gzip;q=0.9', both, 'identity'],
    ['identity;q=0.5, gzip', both, 'gzip'],
    ['deflate', both, 'identity'],
    ['br', [], 'identity'],
    ['br;q=nonsense', both, 'br'],
    [' , ;q=1, br ; q=0.8 ', both, 'br'],
    ['*;q=0', both, 'identity'],
  ] as const)('%j with %j gives %s', (header, available, expected) => {
    expect(chooseEncoding(header, available)).toBe(expected);
  });
});

describe('If-None-Match', () => {
  it.each([
    [null, false],
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['"x",W/"abc" ', true],
    ['*', true],
    ['"ABC"', false],
    ['abc', false],
    ['"ab', false],
    ['', false],
  ] as const)('%j against "abc": %s', (header, expected) => {
    expect(noneMatch(header, '"abc"')).toBe(expected);
  });
});

describe('If-Range', () => {
  it('lets a range through only for an absent header or the same strong tag', () => {
    expect(ifRangeAllows(null, '"a"')).toBe(true);
    expect(ifRangeAllows('"a"', '"a"')).toBe(true);
    expect(ifRangeAllows(' "a" ', '"a"')).toBe(true);
    expect(ifRangeAllows('W/"a"', '"a"')).toBe(false);
    expect(ifRangeAllows('"b"', '"a"')).toBe(false);
    expect(ifRangeAllows('Wed, 21 Oct 2015 07:28:00 GMT', '"a"')).toBe(false);
  });
});

describe('Range', () => {
  it.each([
    [null, 100, { kind: 'whole' }],
    ['bytes=0-9', 100, { kind: 'range', start: 0, end: 9 }],
    ['bytes=90-', 100, { kind: 'range', start: 90, end: 99 }],
    ['bytes=-10', 100, { kind: 'range', start: 90, end: 99 }],
    ['bytes=-1000', 100, { kind: 'range', start: 0, end: 99 }],
    ['bytes=50-5000', 100, { kind: 'range', start: 50, end: 99 }],
    ['bytes=99-99', 100, { kind: 'range', start: 99, end: 99 }],
    ['Bytes = 1 - 2', 100, { kind: 'range', start: 1, end: 2 }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=100-200', 100, { kind: 'unsatisfiable' }],
    ['bytes=99999999999999999999-', 100, { kind: 'unsatisfiable' }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-5', 0, { kind: 'unsatisfiable' }],
    ['bytes=5-1', 100, { kind: 'whole' }],
    ['bytes=0-1,5-6', 100, { kind: 'whole' }],
    ['bytes=-', 100, { kind: 'whole' }],
    ['items=0-1', 100, { kind: 'whole' }],
    ['bytes=a-b', 100, { kind: 'whole' }],
    ['bytes=1.5-2', 100, { kind: 'whole' }],
  ] as const)('%j of %d bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});
