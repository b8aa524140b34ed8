import { service } from '@uos/kernel';

// esbuild passes regular expressions through; QuickJS rejects a group name used twice.
const twice = /(?<part>a)|(?<part>b)/;

export default service({
  start() {
    console.log(twice.test('a'));
  },
});
