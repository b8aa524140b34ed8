/**
 * Installs the globals services expect (console, timers, queueMicrotask, performance). `uos build`
 * imports this module first in every image, so module-level service code can use them.
 */
import { installGlobals } from './install-globals.js';

installGlobals(globalThis);
