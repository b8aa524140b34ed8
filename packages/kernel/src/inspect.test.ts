import { afterEach, describe, expect, it } from 'vitest';
import { format, inspect, setStackMapper } from './inspect.js';

/** A stack in the engine's shape inside an image (frames only, ending with a newline). */
const engineStack = '    at fail (service.js:10)\n    at start (service.js:20)\n';

function errorWithStack(message: string, stack: string | undefined): Error {
  const error = new Error(message);
  Object.defineProperty(error, 'stack', { value: stack, writable: true, configurable: true });
  return error;
}

afterEach(() => {
  setStackMapper((stack) => stack);
});

describe('inspect primitives', () => {
  it('quotes strings and escapes quotes, backslashes and newlines', () => {
    expect(inspect('hello')).toBe("'hello'");
    expect(inspect('')).toBe("''");
    expect(inspect("it's")).toBe("'it\\'s'");
    expect(inspect('a\\b')).toBe("'a\\\\b'");
    expect(inspect('line\nnext')).toBe("'line\\nnext'");
  });

  it('renders numbers, including -0, NaN and infinities', () => {
    expect(inspect(42)).toBe('42');
    expect(inspect(-1.5)).toBe('-1.5');
    expect(inspect(0)).toBe('0');
    expect(inspect(-0)).toBe('-0');
    expect(inspect(Number.NaN)).toBe('NaN');
    expect(inspect(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
  });

  it('renders bigints with an n suffix', () => {
    expect(inspect(1n)).toBe('1n');
    expect(inspect(-12345678901234567890n)).toBe('-12345678901234567890n');
  });

  it('renders booleans, undefined and null', () => {
    expect(inspect(true)).toBe('true');
    expect(inspect(false)).toBe('false');
    expect(inspect(undefined)).toBe('undefined');
    expect(inspect(null)).toBe('null');
  });

  it('renders symbols with their description', () => {
    expect(inspect(Symbol('token'))).toBe('Symbol(token)');
    expect(inspect(Symbol())).toBe('Symbol()');
    expect(inspect(Symbol.for('shared'))).toBe('Symbol(shared)');
  });
});

describe('inspect functions', () => {
  it('shows the name of named functions', () => {
    function handler(): void {}
    expect(inspect(handler)).toBe('[Function: handler]');
    const arrow = (): number => 1;
    expect(inspect(arrow)).toBe('[Function: arrow]');
  });

  it('shows anonymous functions', () => {
    expect(inspect([(): void => {}])).toBe('[ [Function (anonymous)] ]');
    const unnamed = (() => () => {})();
    expect(unnamed.name).toBe('');
    expect(inspect(unnamed)).toBe('[Function (anonymous)]');
  });

  it('renders classes as functions with their name', () => {
    class Widget {}
    expect(inspect(Widget)).toBe('[Function: Widget]');
  });
});

describe('inspect arrays and objects', () => {
  it('renders empty containers without inner spaces', () => {
    expect(inspect([])).toBe('[]');
    expect(inspect({})).toBe('{}');
  });

  it('renders arrays with nested values quoted', () => {
    expect(inspect([1, 'two', null, undefined, true])).toBe("[ 1, 'two', null, undefined, true ]");
  });

  it('renders objects with their keys', () => {
    expect(inspect({ a: 1, b: 'x', c: [1, 2] })).toBe("{ a: 1, b: 'x', c: [ 1, 2 ] }");
  });

  it('renders nested objects up to depth 2 by default', () => {
    const value = { level0: { level1: { level2: { level3: 1 } } } };
    expect(inspect(value)).toBe('{ level0: { level1: { level2: [Object] } } }');
    expect(inspect([[[[1]]]])).toBe('[ [ [ [Array] ] ] ]');
  });

  it('honours the depth option', () => {
    const value = { a: { b: { c: { d: 1 } } } };
    expect(inspect(value, { depth: 0 })).toBe('{ a: [Object] }');
    expect(inspect(value, { depth: 1 })).toBe('{ a: { b: [Object] } }');
    expect(inspect(value, { depth: 3 })).toBe('{ a: { b: { c: { d: 1 } } } }');
    expect(inspect(value, { depth: Number.POSITIVE_INFINITY })).toBe('{ a: { b: { c: { d: 1 } } } }');
    expect(inspect({ list: [1] }, { depth: 0 })).toBe('{ list: [Array] }');
  });

  it('names class instances that are cut off by the depth limit', () => {
    class Point {
      x = 1;
    }
    expect(inspect({ p: new Point() }, { depth: 0 })).toBe('{ p: [Point] }');
    expect(inspect({ m: new Map() }, { depth: 0 })).toBe('{ m: [Map] }');
  });

  it('marks circular references', () => {
    const value: Record<string, unknown> = { name: 'root' };
    value.self = value;
    expect(inspect(value)).toBe("{ name: 'root', self: [Circular] }");
    const list: unknown[] = [1];
    list.push(list);
    expect(inspect(list)).toBe('[ 1, [Circular] ]');
  });

  it('marks a cycle through several objects', () => {
    const parent: Record<string, unknown> = {};
    const child = { parent };
    parent.child = child;
    expect(inspect(parent)).toBe('{ child: { parent: [Circular] } }');
  });

  it('does not mark a shared but acyclic reference as circular', () => {
    const shared = { n: 1 };
    expect(inspect({ a: shared, b: shared })).toBe('{ a: { n: 1 }, b: { n: 1 } }');
    expect(inspect([shared, shared])).toBe('[ { n: 1 }, { n: 1 } ]');
  });

  it('quotes keys that are not identifiers', () => {
    expect(inspect({ 'with-dash': 1, 'with space': 2, valid_$name: 3 })).toBe("{ 'with-dash': 1, 'with space': 2, valid_$name: 3 }");
    expect(inspect({ 1: 'one' })).toBe("{ '1': 'one' }");
    expect(inspect({ '': 0 })).toBe("{ '': 0 }");
    expect(inspect({ "it's": 0 })).toBe("{ 'it\\'s': 0 }");
  });

  it('shows symbol keys after string keys', () => {
    const key = Symbol('secret');
    expect(inspect({ [key]: 1, visible: 2 })).toBe('{ visible: 2, [Symbol(secret)]: 1 }');
  });

  it('omits non-enumerable string keys', () => {
    const value = { shown: 1 };
    Object.defineProperty(value, 'hidden', { value: 2, enumerable: false });
    expect(inspect(value)).toBe('{ shown: 1 }');
  });

  it('prefixes class instances with the class name', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    expect(inspect(new Point(1, 2))).toBe('Point { x: 1, y: 2 }');
    class Empty {}
    expect(inspect(new Empty())).toBe('Empty {}');
    expect(inspect([new Point(3, 4)])).toBe('[ Point { x: 3, y: 4 } ]');
  });

  it('marks null-prototype objects', () => {
    const value = Object.create(null) as Record<string, unknown>;
    value.a = 1;
    expect(inspect(value)).toBe('[Object: null prototype] { a: 1 }');
    expect(inspect(Object.create(null))).toBe('[Object: null prototype] {}');
  });

  // Past the depth limit, inspect.ts line 65 wraps the constructor label in brackets; for a
  // null-prototype object the label already is '[Object: null prototype]', so the result is
  // '[[Object: null prototype]]' where util.inspect prints '[Object: null prototype]'.
  it('names a null-prototype object cut off by the depth limit without doubled brackets', () => {
    const value = Object.create(null) as Record<string, unknown>;
    value.a = 1;
    expect(inspect({ nested: value }, { depth: 0 })).toBe('{ nested: [Object: null prototype] }');
  });

  it('breaks long objects over several indented lines', () => {
    const value = { alpha: 'aaaaaaaaaaaaaaaa', beta: 'bbbbbbbbbbbbbbbb', gamma: 'cccccccccccccccc', delta: 1 };
    expect(inspect(value)).toBe(
      ['{', "  alpha: 'aaaaaaaaaaaaaaaa',", "  beta: 'bbbbbbbbbbbbbbbb',", "  gamma: 'cccccccccccccccc',", '  delta: 1', '}'].join('\n'),
    );
  });

  it('keeps a rendering of exactly 72 characters on one line and breaks at 73', () => {
    // '{ key: ' + quoted string + ' }' is 11 characters plus the string's length.
    const fits = inspect({ key: 'x'.repeat(61) });
    expect(fits).toHaveLength(72);
    expect(fits).not.toContain('\n');
    const breaks = inspect({ key: 'x'.repeat(62) });
    expect(breaks).toBe(`{\n  key: '${'x'.repeat(62)}'\n}`);
  });

  it('indents nested multi-line values', () => {
    const inner = { first: 'f'.repeat(30), second: 's'.repeat(30) };
    expect(inspect({ inner })).toBe(
      ['{', '  inner: {', `    first: '${'f'.repeat(30)}',`, `    second: '${'s'.repeat(30)}'`, '  }', '}'].join('\n'),
    );
  });

  it('truncates arrays after 100 items', () => {
    const value = Array.from({ length: 150 }, (_, index) => index);
    const rendered = inspect(value);
    const lines = rendered.split('\n');
    expect(lines[0]).toBe('[');
    expect(lines[1]).toBe('  0,');
    expect(lines[100]).toBe('  99,');
    expect(lines[101]).toBe('  ... 50 more items');
    expect(lines[102]).toBe(']');
    expect(lines).toHaveLength(103);
    expect(rendered).not.toContain('100,');
  });

  it('does not truncate an array of exactly 100 items', () => {
    const rendered = inspect(Array.from({ length: 100 }, () => 0));
    expect(rendered).not.toContain('more items');
    expect(rendered.split('\n')).toHaveLength(102);
  });
});

describe('inspect built-in objects', () => {
  it('renders maps and sets with their size', () => {
    expect(
      inspect(
        new Map<unknown, unknown>([
          ['a', 1],
          [2, { b: 'c' }],
        ]),
      ),
    ).toBe("Map(2) { 'a' => 1, 2 => { b: 'c' } }");
    expect(inspect(new Set([1, 'two']))).toBe("Set(2) { 1, 'two' }");
    expect(inspect(new Map())).toBe('Map(0) {}');
    expect(inspect(new Set())).toBe('Set(0) {}');
  });

  it('marks a map that contains itself as circular', () => {
    const map = new Map<string, unknown>();
    map.set('me', map);
    expect(inspect(map)).toBe("Map(1) { 'me' => [Circular] }");
  });

  it('renders typed arrays with their type and length', () => {
    expect(inspect(new Uint8Array([1, 2, 3]))).toBe('Uint8Array(3) [ 1, 2, 3 ]');
    expect(inspect(new Float64Array([0.5, -0]))).toBe('Float64Array(2) [ 0.5, -0 ]');
    expect(inspect(new BigInt64Array([BigInt(1), BigInt(-2)]))).toBe('BigInt64Array(2) [ 1n, -2n ]');
    expect(inspect(new Int16Array(0))).toBe('Int16Array(0) []');
  });

  it('truncates typed arrays after 100 items', () => {
    const rendered = inspect(new Uint8Array(120));
    expect(rendered.startsWith('Uint8Array(120) [\n')).toBe(true);
    expect(rendered.endsWith('  ... 20 more items\n]')).toBe(true);
    expect(rendered.split('\n')).toHaveLength(103);
  });

  it('renders dates as ISO strings and invalid dates as Invalid Date', () => {
    expect(inspect(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))).toBe('2024-01-02T03:04:05.006Z');
    expect(inspect(new Date(Number.NaN))).toBe('Invalid Date');
    expect(inspect({ at: new Date(0) })).toBe('{ at: 1970-01-01T00:00:00.000Z }');
  });

  it('renders regular expressions as their source', () => {
    expect(inspect(/a+b/gi)).toBe('/a+b/gi');
    expect(inspect({ pattern: /x\/y/ })).toBe('{ pattern: /x\\/y/ }');
  });

  it('renders promises', () => {
    expect(inspect(new Promise(() => {}))).toBe('Promise { <pending> }');
  });
});

describe('inspect errors', () => {
  it('renders name and message followed by the stack', () => {
    const error = errorWithStack('boom', engineStack);
    expect(inspect(error)).toBe('Error: boom\n    at fail (service.js:10)\n    at start (service.js:20)');
  });

  it('uses the error name of subclasses and custom names', () => {
    expect(inspect(Object.assign(errorWithStack('bad', undefined), { name: 'CustomError' }))).toBe('CustomError: bad');
    const typeError = new TypeError('wrong type');
    Object.defineProperty(typeError, 'stack', { value: '' });
    expect(inspect(typeError)).toBe('TypeError: wrong type');
  });

  it('renders only the head when there is no stack', () => {
    expect(inspect(errorWithStack('no stack', undefined))).toBe('Error: no stack');
    expect(inspect(errorWithStack('empty stack', ''))).toBe('Error: empty stack');
  });

  it('applies the stack mapper set with setStackMapper', () => {
    const seen: string[] = [];
    setStackMapper((stack) => {
      seen.push(stack);
      return stack.replace(/service\.js:(\d+)/g, 'service.ts:$1');
    });
    const error = errorWithStack('mapped', engineStack);
    expect(inspect(error)).toBe('Error: mapped\n    at fail (service.ts:10)\n    at start (service.ts:20)');
    expect(seen).toEqual([engineStack]);
  });

  it('does not call the stack mapper for an error without a stack', () => {
    let calls = 0;
    setStackMapper((stack) => {
      calls++;
      return stack;
    });
    expect(inspect(errorWithStack('plain', undefined))).toBe('Error: plain');
    expect(calls).toBe(0);
  });

  it('renders errors inside objects over several lines', () => {
    const error = errorWithStack('inner', '    at f (a.js:1)\n');
    expect(inspect({ error })).toBe('{\n  error: Error: inner\n      at f (a.js:1)\n}');
  });
});

describe('format', () => {
  it('substitutes %s with strings unquoted and other values inspected', () => {
    expect(format('hello %s', 'world')).toBe('hello world');
    expect(format('%s', 42)).toBe('42');
    expect(format('%s', -0)).toBe('-0');
    expect(format('%s', BigInt(7))).toBe('7n');
    expect(format('%s', Symbol('s'))).toBe('Symbol(s)');
    expect(format('%s', null)).toBe('null');
    expect(format('%s', undefined)).toBe('undefined');
    expect(format('%s', { a: 'x' })).toBe("{ a: 'x' }");
    expect(format('%s', ['x'])).toBe("[ 'x' ]");
  });

  it('inspects %s objects one level deep', () => {
    expect(format('%s', { a: { b: { c: 1 } } })).toBe('{ a: { b: [Object] } }');
  });

  it('substitutes %d as a number', () => {
    expect(format('%d', 42)).toBe('42');
    expect(format('%d', '42')).toBe('42');
    expect(format('%d', 1.5)).toBe('1.5');
    expect(format('%d', 'abc')).toBe('NaN');
    expect(format('%d', {})).toBe('NaN');
    expect(format('%d', BigInt(10))).toBe('10n');
  });

  it('substitutes %i as a truncated integer', () => {
    expect(format('%i', 42.9)).toBe('42');
    expect(format('%i', -42.9)).toBe('-42');
    expect(format('%i', '7.5')).toBe('7');
    expect(format('%i', BigInt(3))).toBe('3n');
  });

  it('substitutes %f as a floating point number', () => {
    expect(format('%f', 1.25)).toBe('1.25');
    expect(format('%f', '2.5')).toBe('2.5');
    expect(format('%f', 'x')).toBe('NaN');
  });

  it('substitutes %j with JSON', () => {
    expect(format('%j', { a: [1, 'b'] })).toBe('{"a":[1,"b"]}');
    expect(format('%j', 'text')).toBe('"text"');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(format('%j', circular)).toBe('[Circular]');
  });

  it('substitutes %o and %O with inspected values', () => {
    const deep = { a: { b: { c: { d: { e: {} } } } } };
    expect(format('%O', deep)).toBe('{ a: { b: { c: [Object] } } }');
    expect(format('%o', deep)).toBe('{ a: { b: { c: { d: { e: [Object] } } } } }');
    expect(format('%O', 'quoted')).toBe("'quoted'");
  });

  it('consumes %c and renders nothing', () => {
    expect(format('%cstyled', 'color: red')).toBe('styled');
    expect(format('a%cb%cc', 'x', 'y')).toBe('abc');
  });

  it('renders %% as a single percent sign without consuming an argument', () => {
    expect(format('100%% %s', 'done')).toBe('100% done');
    expect(format('%%s', 'a')).toBe('%s a');
  });

  it('appends extra arguments separated by spaces, strings unquoted', () => {
    expect(format('%s', 'a', 'b', 3, { c: 'd' })).toBe("a b 3 { c: 'd' }");
    expect(format('no specifiers %', 1)).toBe('no specifiers % 1');
  });

  it('leaves specifiers without an argument in place', () => {
    expect(format('%s and %s', 'one')).toBe('one and %s');
    expect(format('%d %i %f %j %o', 1)).toBe('1 %i %f %j %o');
  });

  it('leaves unknown specifiers alone', () => {
    expect(format('%x %s', 'a')).toBe('%x a');
  });

  it('returns a lone format string unchanged', () => {
    expect(format('%s %d %%')).toBe('%s %d %%');
  });

  it('joins arguments when the first is not a string', () => {
    expect(format(1, 'two', [3])).toBe('1 two [ 3 ]');
    expect(format({ a: '%s' }, 'x')).toBe("{ a: '%s' } x");
  });

  it('joins arguments when the first string has no specifier', () => {
    expect(format('plain', 'text', 42)).toBe('plain text 42');
  });

  it('renders no arguments as an empty string', () => {
    expect(format()).toBe('');
  });

  // util.format renders 'NaN' for a symbol passed to %d, %i or %f; format() throws a TypeError
  // from Number(symbol), so console.log('%d', Symbol()) would crash the service.
  it('does not throw for a symbol given to %d', () => {
    expect(format('%d', Symbol('n'))).toBe('NaN');
  });

  it('does not throw for a symbol given to %i', () => {
    expect(format('%i', Symbol('n'))).toBe('NaN');
  });

  it('does not throw for a symbol given to %f', () => {
    expect(format('%f', Symbol('n'))).toBe('NaN');
  });
});
