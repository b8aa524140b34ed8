import { Blob, File } from './blob.js';
import { concatBytes, latin1Encode, utf8Decode, utf8Encode } from './text.js';
import { parseUrlEncoded, toUsv } from './url/percent-encoding.js';

export type FormDataEntryValue = string | File;

function toEntryValue(value: string | Blob, filename?: string): FormDataEntryValue {
  if (!(value instanceof Blob)) return toUsv(String(value));
  if (value instanceof File && filename === undefined) return value;
  const file = new File([], filename ?? (value instanceof File ? value.name : 'blob'), {
    type: value.type,
    ...(value instanceof File ? { lastModified: value.lastModified } : {}),
  });
  file._bytes = value._bytes;
  return file;
}

/** The XMLHttpRequest standard's FormData: ordered entries of strings and files. */
export class FormData {
  /** @internal */
  _entries: [string, FormDataEntryValue][] = [];

  constructor(form?: unknown) {
    if (form !== undefined) throw new TypeError('FormData: there are no HTML forms here; construct it empty');
  }

  append(name: string, value: string | Blob, filename?: string): void {
    this._entries.push([toUsv(String(name)), toEntryValue(value, filename)]);
  }

  delete(name: string): void {
    const key = toUsv(String(name));
    this._entries = this._entries.filter(([n]) => n !== key);
  }

  get(name: string): FormDataEntryValue | null {
    const key = toUsv(String(name));
    for (const [n, v] of this._entries) if (n === key) return v;
    return null;
  }

  getAll(name: string): FormDataEntryValue[] {
    const key = toUsv(String(name));
    return this._entries.filter(([n]) => n === key).map(([, v]) => v);
  }

  has(name: string): boolean {
    const key = toUsv(String(name));
    return this._entries.some(([n]) => n === key);
  }

  set(name: string, value: string | Blob, filename?: string): void {
    const key = toUsv(String(name));
    const entry: [string, FormDataEntryValue] = [key, toEntryValue(value, filename)];
    const at = this._entries.findIndex(([n]) => n === key);
    if (at < 0) this._entries.push(entry);
    else this._entries = this._entries.filter(([n], i) => i <= at || n !== key).map((e, i) => (i === at ? entry : e));
  }

  forEach(callback: (value: FormDataEntryValue, name: string, data: FormData) => void, thisArg?: unknown): void {
    for (const [n, v] of this._entries.slice()) callback.call(thisArg, v, n, this);
  }

  *entries(): IterableIterator<[string, FormDataEntryValue]> {
    for (const [n, v] of this._entries) yield [n, v];
  }

  *keys(): IterableIterator<string> {
    for (const [n] of this._entries) yield n;
  }

  *values(): IterableIterator<FormDataEntryValue> {
    for (const [, v] of this._entries) yield v;
  }

  [Symbol.iterator](): IterableIterator<[string, FormDataEntryValue]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'FormData';
  }
}

/** A parameter of a Content-Type or Content-Disposition value (`boundary`, `name`, `filename`), unquoted. */
function parameter(header: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i').exec(header);
  if (!match) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2];
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  for (let i = haystack.indexOf(first, from); i >= 0 && i + needle.length <= haystack.length; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** multipart/form-data (RFC 7578): each part's Content-Disposition name, and a file when it has a filename. */
function parseMultipart(bytes: Uint8Array, boundary: string): FormData {
  const form = new FormData();
  const delimiter = latin1Encode(`--${boundary}`);
  let at = indexOfBytes(bytes, delimiter, 0);
  if (at < 0) throw new TypeError('multipart/form-data: no boundary delimiter in the body');
  for (;;) {
    at += delimiter.length;
    if (bytes[at] === 0x2d && bytes[at + 1] === 0x2d) return form; // the close delimiter
    if (bytes[at] !== 0x0d || bytes[at + 1] !== 0x0a) throw new TypeError('multipart/form-data: a delimiter line must end with CRLF');
    const headersEnd = indexOfBytes(bytes, latin1Encode('\r\n\r\n'), at + 2);
    if (headersEnd < 0) throw new TypeError('multipart/form-data: a part has no end of its headers');
    const headers = utf8Decode(bytes.subarray(at + 2, headersEnd)).split('\r\n');
    const next = indexOfBytes(bytes, latin1Encode(`\r\n--${boundary}`), headersEnd + 4);
    if (next < 0) throw new TypeError('multipart/form-data: a part is not closed by the boundary');
    const content = bytes.slice(headersEnd + 4, next);
    let disposition = '';
    let type = '';
    for (const line of headers) {
      const colon = line.indexOf(':');
      const field = line.slice(0, colon).trim().toLowerCase();
      if (field === 'content-disposition') disposition = line.slice(colon + 1);
      else if (field === 'content-type') type = line.slice(colon + 1).trim();
    }
    const name = parameter(disposition, 'name');
    if (name === undefined) throw new TypeError('multipart/form-data: a part has no name');
    const filename = parameter(disposition, 'filename');
    if (filename === undefined) form.append(name, utf8Decode(content));
    else {
      const file = new File([], filename, { type: type || 'text/plain' });
      file._bytes = content;
      form.append(name, file);
    }
    at = next + 2;
  }
}

/** A body as FormData, by its Content-Type: urlencoded or multipart. */
export function parseFormData(bytes: Uint8Array, contentType: string): FormData {
  const essence = contentType.split(';')[0]!.trim().toLowerCase();
  if (essence === 'application/x-www-form-urlencoded') {
    const form = new FormData();
    for (const [name, value] of parseUrlEncoded(utf8Decode(bytes))) form.append(name, value);
    return form;
  }
  if (essence === 'multipart/form-data') {
    const boundary = parameter(contentType, 'boundary');
    if (!boundary) throw new TypeError('multipart/form-data without a boundary parameter');
    return parseMultipart(bytes, boundary);
  }
  throw new TypeError(`cannot read a ${essence || 'body without a Content-Type'} as FormData`);
}

const escapeName = (name: string): string => name.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');

/** FormData as a multipart/form-data body with a random boundary. */
export function formDataToMultipart(form: FormData): { bytes: Uint8Array; boundary: string } {
  const random = new Uint8Array(12);
  (globalThis as unknown as { crypto: { getRandomValues(a: Uint8Array): Uint8Array } }).crypto.getRandomValues(random);
  const boundary = `----uos${Array.from(random, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  const chunks: Uint8Array[] = [];
  for (const [name, value] of form._entries) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"`;
    if (typeof value === 'string') {
      chunks.push(utf8Encode(`${head}\r\n\r\n${value.replace(/\r(?!\n)|(?<!\r)\n/g, '\r\n')}\r\n`));
    } else {
      head += `; filename="${escapeName(value.name)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`;
      chunks.push(utf8Encode(head), value._bytes, latin1Encode('\r\n'));
    }
  }
  chunks.push(latin1Encode(`--${boundary}--\r\n`));
  return { bytes: concatBytes(chunks), boundary };
}
