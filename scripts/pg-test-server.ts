// `npm run pg:test-server`: a throwaway PostgreSQL for developers (the one the tests start), kept up until Ctrl-C;
// prints the PG_TEST_URL to export so test runs reuse it instead of starting their own.
import { startCluster } from '../test/helpers/postgres-cluster.js';

const cluster = await startCluster();
console.log(`PostgreSQL is up. In another shell:\n  export PG_TEST_URL=${cluster.url}\nCtrl-C stops it and deletes its data.`);
const stop = () => {
  cluster.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// Keeps the process alive until a signal.
setInterval(() => undefined, 1 << 30);
