/** What TextDecoder accepts, shared by the native-backed and the portable implementations. */

/** The labels of UTF-8 in the Encoding standard. */
const UTF8_LABELS = ['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8'];

/** The standard's "get an encoding": strip ASCII whitespace, compare ASCII case-insensitively. */
export function isUtf8Label(label: string): boolean {
  const name = label.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '').replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
  return UTF8_LABELS.indexOf(name) !== -1;
}

const toStringTag = Object.prototype.toString;

export function toBytes(input: ArrayBuffer | ArrayBufferView | undefined): Uint8Array {
  if (input === undefined) return new Uint8Array(0);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const tag = toStringTag.call(input);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') return new Uint8Array(input);
  throw new TypeError('The "input" argument must be an ArrayBuffer or an ArrayBufferView');
}
