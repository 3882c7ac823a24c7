import { clientSuite, DRIVERS } from './scenarios.js';

clientSuite(DRIVERS.kcat);
