import { UosError } from '@uos/errors';
import { describe, expect, it } from 'vitest';
import { type ServiceDefinition, isService, parseArgs, service } from './service.js';

function invalidCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(UosError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(UosError);
    return (error as UosError).code;
  }
  return undefined;
}

describe('parseArgs', () => {
  it('returns no words for an empty or blank command line', () => {
    expect(parseArgs('')).toEqual([]);
    expect(parseArgs('   ')).toEqual([]);
    expect(parseArgs('\t \n')).toEqual([]);
  });

  it('splits on spaces', () => {
    expect(parseArgs('serve --port 8080')).toEqual(['serve', '--port', '8080']);
  });

  it('treats runs of spaces, tabs and newlines as one separator', () => {
    expect(parseArgs('a  b\tc\t\td \n e')).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('ignores leading and trailing whitespace', () => {
    expect(parseArgs('  one two  ')).toEqual(['one', 'two']);
    expect(parseArgs('one\t')).toEqual(['one']);
  });

  it('groups words in double quotes', () => {
    expect(parseArgs('say "hello world" now')).toEqual(['say', 'hello world', 'now']);
    expect(parseArgs('"a\tb"')).toEqual(['a\tb']);
  });

  it('groups words in single quotes', () => {
    expect(parseArgs("say 'hello world' now")).toEqual(['say', 'hello world', 'now']);
  });

  it('keeps the other kind of quote inside quotes', () => {
    expect(parseArgs(`"it's" 'say "hi"'`)).toEqual(["it's", 'say "hi"']);
  });

  it('joins quoted and unquoted parts of one word', () => {
    expect(parseArgs('--name="John Smith"')).toEqual(['--name=John Smith']);
    expect(parseArgs(`a"b c"d'e f'g`)).toEqual(['ab cde fg']);
  });

  it('yields an empty word for an empty quoted string', () => {
    expect(parseArgs('""')).toEqual(['']);
    expect(parseArgs("''")).toEqual(['']);
    expect(parseArgs('a "" b')).toEqual(['a', '', 'b']);
    expect(parseArgs("--flag ''")).toEqual(['--flag', '']);
  });

  it('escapes a space, a quote or a backslash with a backslash', () => {
    expect(parseArgs('a\\ b c')).toEqual(['a b', 'c']);
    expect(parseArgs('\\"quoted\\"')).toEqual(['"quoted"']);
    expect(parseArgs("don\\'t")).toEqual(["don't"]);
    expect(parseArgs('back\\\\slash')).toEqual(['back\\slash']);
    expect(parseArgs('\\n')).toEqual(['n']);
  });

  it('makes a word from an escaped space alone', () => {
    expect(parseArgs('a \\  b')).toEqual(['a', ' ', 'b']);
  });

  it('honours backslash escapes inside double quotes', () => {
    expect(parseArgs('"say \\"hi\\""')).toEqual(['say "hi"']);
    expect(parseArgs('"a\\\\b"')).toEqual(['a\\b']);
  });

  it('keeps backslashes literally inside single quotes', () => {
    expect(parseArgs("'a\\b'")).toEqual(['a\\b']);
    expect(parseArgs("'a\\' b")).toEqual(['a\\', 'b']);
  });

  it('keeps a trailing backslash', () => {
    expect(parseArgs('end\\')).toEqual(['end\\']);
  });

  it('closes an unterminated quote at the end of the line', () => {
    expect(parseArgs('a "b c')).toEqual(['a', 'b c']);
    expect(parseArgs("'")).toEqual(['']);
  });
});

describe('service', () => {
  it('throws service-invalid without a start function', () => {
    expect(invalidCode(() => service({} as unknown as ServiceDefinition))).toBe('service-invalid');
    expect(invalidCode(() => service({ start: 'run' } as unknown as ServiceDefinition))).toBe('service-invalid');
    expect(invalidCode(() => service({ name: 'x' } as unknown as ServiceDefinition))).toBe('service-invalid');
  });

  it('throws service-invalid for a definition that is not an object', () => {
    expect(invalidCode(() => service(null as unknown as ServiceDefinition))).toBe('service-invalid');
    expect(invalidCode(() => service(undefined as unknown as ServiceDefinition))).toBe('service-invalid');
    expect(invalidCode(() => service((() => {}) as unknown as ServiceDefinition))).toBe('service-invalid');
  });

  it('throws service-invalid when stop is given but is not a function', () => {
    const definition = { start() {}, stop: 'later' } as unknown as ServiceDefinition;
    expect(invalidCode(() => service(definition))).toBe('service-invalid');
    expect(() => service(definition)).toThrow(/stop must be a function/);
    expect(invalidCode(() => service({ start() {}, stop: null } as unknown as ServiceDefinition))).toBe('service-invalid');
  });

  it('accepts a definition with only start, or with stop explicitly undefined', () => {
    expect(invalidCode(() => service({ start() {} }))).toBeUndefined();
    expect(invalidCode(() => service({ start() {}, stop: undefined }))).toBeUndefined();
  });

  it('returns a frozen service that keeps the definition', () => {
    const start = (): void => {};
    const stop = async (): Promise<void> => {};
    const result = service({ name: 'echo', start, stop });
    expect(isService(result)).toBe(true);
    expect(Object.isFrozen(result)).toBe(true);
    expect(result.name).toBe('echo');
    expect(result.start).toBe(start);
    expect(result.stop).toBe(stop);
    expect(() => {
      (result as { name?: string }).name = 'changed';
    }).toThrow(TypeError);
  });

  it('copies the definition instead of freezing it', () => {
    const definition: ServiceDefinition = { start() {} };
    const result = service(definition);
    expect(result).not.toBe(definition);
    expect(Object.isFrozen(definition)).toBe(false);
    expect(isService(definition)).toBe(false);
    definition.name = 'later';
    expect(result.name).toBeUndefined();
  });
});

describe('isService', () => {
  it('is false for plain objects and non-objects', () => {
    expect(isService({})).toBe(false);
    expect(isService({ start() {} })).toBe(false);
    expect(isService(null)).toBe(false);
    expect(isService(undefined)).toBe(false);
    expect(isService('service')).toBe(false);
    expect(isService(() => {})).toBe(false);
  });

  it('requires the shared marker to be exactly true', () => {
    const marker = Symbol.for('uos.service');
    expect(isService({ [marker]: 'yes' })).toBe(false);
    expect(isService({ [Symbol('uos.service')]: true })).toBe(false);
    // The marker is registered with Symbol.for so a service from another copy of the package is recognised.
    expect(isService({ start() {}, [marker]: true })).toBe(true);
  });
});
