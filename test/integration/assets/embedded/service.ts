/**
 * @uos/assets inside an image: lists the embedded files (`assets: <path> <size> <type> <etag> <encodings>`),
 * checks that the plain bytes and a copy read back, and prints `assets: done`. With the argument `write`
 * it writes into a view of the image's read-only pages, which must end the VM with a page fault that says so.
 */
import { assets } from '@uos/assets';
import { os, service } from '@uos/kernel';

export default service({
  start(args) {
    for (const asset of assets.list()) {
      console.log(`assets: ${asset.path} ${asset.size} ${asset.type} ${asset.etag} ${asset.encodings.join(',') || '-'}`);
    }
    const note = assets.get('/docs/note.txt');
    if (note?.text() !== 'plain text\n') throw new Error(`docs/note.txt reads back wrong: ${note?.text()}`);
    const copy = note.bytes();
    copy[0] = 0x50;
    if (note.text() !== 'plain text\n' || copy[0] !== 0x50) throw new Error('a copy is not independent of the image');
    if (assets.get('missing') !== undefined) throw new Error('a missing asset was found');
    if (args[0] === 'write') {
      console.log('assets: writing into the image');
      note.view()[0] = 0x50;
      console.log('assets: the write did not fault');
    }
    console.log('assets: done');
    os.exit(0);
  },
});
