import { service } from '@uos/kernel';
import { type FaultKind, faults } from '@uos/x86';

// Crashes on purpose in native code, in the way the first start argument names.
export default service({
  start([kind]) {
    console.log(`cpu-exceptions: triggering ${kind}`);
    faults.trigger(kind as FaultKind);
  },
});
