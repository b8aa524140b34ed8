import { service } from '@uos/kernel';

// Characters of two, three and four UTF-8 bytes, many times: the serial console delivers them in pieces.
export const LINE = 'é✓日本語😀'.repeat(200);

export default service({
  start() {
    for (let i = 0; i < 5; i++) console.log(`utf8 ${i}: ${LINE}`);
  },
});
