import { os, service } from '@uos/kernel';
import { faults } from '@uos/x86';

// Panic hooks run after the report; the panic action decides what happens next.
export default service({
  start([action, failure]) {
    os.setPanicAction(action as 'exit' | 'halt' | 'reboot');
    os.onPanic((info) => console.log(`panic-hooks: first hook: ${info.kind}, status ${info.status}`));
    os.onPanic(() => {
      throw new Error('a hook that fails does not stop the next one');
    });
    os.onPanic((info) => console.log(`panic-hooks: third hook: ${info.reason}`));
    console.log(`panic-hooks: failing with ${failure} under action ${action}`);
    if (failure === 'cpu') faults.trigger('null-pointer');
    throw new Error('deliberate failure');
  },
});
