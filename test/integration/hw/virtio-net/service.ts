import '@uos/driver-virtionet';
import type { VirtioNet } from '@uos/driver-virtionet';
import { rawFrameService } from '../raw-frame-service.js';

// Raw Ethernet frames through the virtio-net driver (commands in ../raw-frame-service.ts).
export default rawFrameService('virtio', (eth0) => `${(eth0 as VirtioNet).transport} ${(eth0 as VirtioNet).interruptMode}`);
