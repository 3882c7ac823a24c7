import { clientSuite, DRIVERS } from './scenarios.js';
import { PLATFORMATIC_CONSUMER } from './known-bugs.js';

clientSuite(DRIVERS.platformatic, { todo: { 's2-consume': PLATFORMATIC_CONSUMER } });
