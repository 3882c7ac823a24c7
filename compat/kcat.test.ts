import { clientSuite, DRIVERS } from './scenarios.js';
import { LIBRDKAFKA_PRODUCE_V0, LIBRDKAFKA_LZ4 } from './known-bugs.js';

clientSuite(DRIVERS.kcat, { todo: { 's3-gzip': LIBRDKAFKA_PRODUCE_V0, 's3-snappy': LIBRDKAFKA_PRODUCE_V0, 's3-lz4': LIBRDKAFKA_LZ4 } });
