/** Turns an error's stack into TypeScript locations when running in an image; identity elsewhere. */
export type StackMapper = (stack: string) => string;

let mapStack: StackMapper = (stack) => stack;

export function setStackMapper(mapper: StackMapper): void {
  mapStack = mapper;
}

export interface InspectOptions {
  /** How deep objects nest before `[Object]` (default 2). */
  depth?: number;
}

const identifier = /^[A-Za-z_$][\w$]*$/;

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

function constructorName(value: object): string | undefined {
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  if (proto === null) return '[Object: null prototype]';
  const name = proto.constructor?.name;
  return name && name !== 'Object' ? name : undefined;
}

function formatError(error: Error): string {
  const stack = typeof error.stack === 'string' ? error.stack : '';
  const head = `${error.name}: ${error.message}`;
  return stack ? `${head}\n${mapStack(stack).replace(/\n$/, '')}` : head;
}

function formatKey(key: string | symbol): string {
  if (typeof key === 'symbol') return `[${key.toString()}]`;
  return identifier.test(key) ? key : quote(key);
}

function join(open: string, parts: string[], close: string): string {
  if (!parts.length) return `${open}${close}`;
  const single = `${open} ${parts.join(', ')} ${close}`;
  return single.length <= 72 && !single.includes('\n') ? single : `${open}\n  ${parts.join(',\n').replace(/\n/g, '\n  ')}\n${close}`;
}

function inspectValue(value: unknown, depth: number, seen: Set<object>, nested: boolean): string {
  switch (typeof value) {
    case 'string':
      return nested ? quote(value) : value;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'function': {
      const name = (value as { name?: string }).name;
      return name ? `[Function: ${name}]` : '[Function (anonymous)]';
    }
  }
  if (value === null) return 'null';
  const object = value as object;
  if (seen.has(object)) return '[Circular]';
  if (object instanceof Error) return formatError(object);
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  if (object instanceof RegExp) return object.toString();
  if (object instanceof Promise) return 'Promise { <pending> }';
  const name = constructorName(object);
  if (depth < 0) return Array.isArray(object) ? '[Array]' : name?.startsWith('[') ? name : `[${name ?? 'Object'}]`;
  seen.add(object);
  try {
    const inner = (v: unknown): string => inspectValue(v, depth - 1, seen, true);
    if (Array.isArray(object)) {
      const parts = object.slice(0, 100).map(inner);
      if (object.length > 100) parts.push(`... ${object.length - 100} more items`);
      return join('[', parts, ']');
    }
    if (ArrayBuffer.isView(object) && !(object instanceof DataView)) {
      const view = object as unknown as ArrayLike<number | bigint>;
      const parts = Array.from({ length: Math.min(view.length, 100) }, (_, i) => inner(view[i]));
      if (view.length > 100) parts.push(`... ${view.length - 100} more items`);
      return `${name}(${view.length}) ${join('[', parts, ']')}`;
    }
    if (object instanceof Map) {
      return `Map(${object.size}) ${join(
        '{',
        [...object].map(([k, v]) => `${inner(k)} => ${inner(v)}`),
        '}',
      )}`;
    }
    if (object instanceof Set) return `Set(${object.size}) ${join('{', [...object].map(inner), '}')}`;
    const keys: (string | symbol)[] = [...Object.keys(object), ...Object.getOwnPropertySymbols(object)];
    const parts = keys.map((k) => `${formatKey(k)}: ${inner((object as Record<string | symbol, unknown>)[k])}`);
    const body = join('{', parts, '}');
    return name ? `${name} ${body}` : body;
  } finally {
    seen.delete(object);
  }
}

/** A readable rendering of any value, in the manner of Node's util.inspect. */
export function inspect(value: unknown, options: InspectOptions = {}): string {
  return inspectValue(value, options.depth ?? 2, new Set(), true);
}

/** printf-like formatting in the manner of Node's util.format: %s %d %i %f %j %o %O %c %%. */
export function format(...args: unknown[]): string {
  const first = args[0];
  let rest = args;
  let out = '';
  if (typeof first === 'string' && args.length > 1 && first.includes('%')) {
    let index = 1;
    const toNumber = (value: unknown): number => (typeof value === 'symbol' ? NaN : Number(value));
    out = first.replace(/%([sdifjoOc%])/g, (match, spec: string) => {
      if (spec === '%') return '%';
      if (index >= args.length) return match;
      const arg = args[index++];
      switch (spec) {
        case 's':
          return typeof arg === 'string' ? arg : inspectValue(arg, 1, new Set(), false);
        case 'd':
          return typeof arg === 'bigint' ? `${arg}n` : String(toNumber(arg));
        case 'i':
          return typeof arg === 'bigint' ? `${arg}n` : String(Math.trunc(toNumber(arg)));
        case 'f':
          return String(toNumber(arg));
        case 'j':
          try {
            return JSON.stringify(arg);
          } catch {
            return '[Circular]';
          }
        case 'c':
          return '';
        default:
          return inspect(arg, { depth: spec === 'O' ? 2 : 4 });
      }
    });
    rest = args.slice(index);
    return rest.length ? `${out} ${rest.map((a) => inspectValue(a, 2, new Set(), false)).join(' ')}` : out;
  }
  return rest.map((a) => inspectValue(a, 2, new Set(), false)).join(' ');
}
