import { TextDecoder as PortableTextDecoder, TextEncoder as PortableTextEncoder, service } from '@uos/kernel';

// The image's TextEncoder/TextDecoder are native; the portable TypeScript codec (checked against Node's in
// unit tests) is the reference here: random inputs, whole and streamed, must give the same results.
let seed = 0x2545f491;
function random(limit: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % limit;
}

function randomBytes(): Uint8Array {
  const length = random(40);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const r = random(10);
    bytes[i] = r < 4 ? random(0x80) : r < 7 ? 0x80 + random(0x40) : 0xc0 + random(0x40);
  }
  return bytes;
}

function randomString(): string {
  let s = '';
  const length = random(20);
  for (let i = 0; i < length; i++) {
    const r = random(6);
    s +=
      r < 2
        ? String.fromCharCode(random(0x80))
        : r < 4
          ? String.fromCharCode(random(0xd800))
          : r < 5
            ? String.fromCharCode(0xd800 + random(0x800))
            : String.fromCodePoint(0x10000 + random(0xfffff));
  }
  return s;
}

export default service({
  start() {
    let mismatches = 0;
    const cases = 3000;
    for (let i = 0; i < cases; i++) {
      const bytes = randomBytes();
      const fatal = i % 5 === 0;
      const run = (make: () => { decode(b?: Uint8Array, o?: { stream?: boolean }): string }): string => {
        try {
          const decoder = make();
          if (i % 2) return decoder.decode(bytes);
          let out = '';
          for (let at = 0; at < bytes.length; ) {
            const step = 1 + (at % 3);
            out += decoder.decode(bytes.subarray(at, at + step), { stream: true });
            at += step;
          }
          return out + decoder.decode();
        } catch (error) {
          return `throws ${(error as Error).name}`;
        }
      };
      const native = run(() => new TextDecoder('utf-8', { fatal }));
      const portable = run(() => new PortableTextDecoder('utf-8', { fatal }));
      if (native !== portable && mismatches++ < 5) console.log(`text-codec: decode mismatch for [${Array.from(bytes)}]`);
      const text = randomString();
      const a = new TextEncoder().encode(text);
      const b = new PortableTextEncoder().encode(text);
      if (a.join() !== b.join() && mismatches++ < 5) console.log(`text-codec: encode mismatch for ${JSON.stringify(text)}`);
      const room = new Uint8Array(random(12));
      const into = new TextEncoder().encodeInto(text, room);
      const reference = new PortableTextEncoder().encodeInto(text, new Uint8Array(room.length));
      if ((into.read !== reference.read || into.written !== reference.written) && mismatches++ < 5) {
        console.log(`text-codec: encodeInto mismatch for ${JSON.stringify(text)} into ${room.length}`);
      }
    }
    const bom = new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]));
    console.log(`text-codec: ${cases} cases, ${mismatches} mismatches; bom stripped ${bom === 'hi'}; ${new TextDecoder().encoding}`);
  },
});
