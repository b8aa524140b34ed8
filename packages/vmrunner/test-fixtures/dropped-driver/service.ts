import 'fake-driver';
import { service } from '@uos/kernel';

export default service({ start() {} });
