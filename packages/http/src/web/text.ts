/**
 * UTF-8 through the platform's TextEncoder/TextDecoder (native in an image, Node's in tests), made on first
 * use so that importing this module does nothing.
 */
interface Encoder {
  encode(text: string): Uint8Array;
}
interface Decoder {
  decode(bytes: Uint8Array): string;
}
interface TextGlobals {
  TextEncoder: new () => Encoder;
  TextDecoder: new (label?: string, options?: { ignoreBOM?: boolean }) => Decoder;
}

let encoder: Encoder | undefined;
let decoder: Decoder | undefined;

export function utf8Encode(text: string): Uint8Array {
  encoder ??= new (globalThis as unknown as TextGlobals).TextEncoder();
  return encoder.encode(text);
}

/** The Encoding standard's "UTF-8 decode": a leading BOM is dropped, invalid sequences become U+FFFD. */
export function utf8Decode(bytes: Uint8Array): string {
  decoder ??= new (globalThis as unknown as TextGlobals).TextDecoder();
  return decoder.decode(bytes);
}

/** The bytes of a string of characters up to U+00FF (ISO-8859-1), as header lines are. */
export function latin1Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** `chunks` joined into one array (the only one when there is one). */
export function concatBytes(chunks: readonly Uint8Array[], total?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let length = total ?? 0;
  if (total === undefined) for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
