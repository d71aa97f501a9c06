// Defect 5 (issue 12): HOST defaulted to 0.0.0.0, so `npm start` on a laptop listened on every interface.
import { connect } from 'node:net';
import { networkInterfaces, platform } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, stopServer, type ServerProcess } from '../helpers/server.js';

/** Whether a TCP connection to host:port is accepted (false when refused). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

// Addresses of this machine other than 127.0.0.1: a server on 0.0.0.0 answers them all, one on 127.0.0.1 none.
// On Linux all of 127.0.0.0/8 is loopback, so 127.0.0.2 is there even on a machine with no network.
const otherAddresses = [
  ...(platform() === 'linux' ? ['127.0.0.2'] : []),
  ...Object.values(networkInterfaces())
    .flat()
    .filter((address) => address && address.family === 'IPv4' && !address.internal)
    .map((address) => address!.address),
];
if (otherAddresses.length === 0) console.warn('SKIPPED host-default.test.ts: this machine has no address but 127.0.0.1 to try, so "answers on no other address" cannot run');

let server: ServerProcess;
beforeAll(async () => {
  // HOST empty counts as unset: the server's own default, as `npm start` runs it.
  server = await startServer({ HOST: '' });
});
afterAll(async () => {
  if (server) await stopServer(server);
});

describe('defect 5: HOST defaults to every interface', () => {
  it('listens on 127.0.0.1 when HOST is not set', async () => {
    expect(await accepts('127.0.0.1', server.port)).toBe(true);
  });

  it.skipIf(otherAddresses.length === 0)('does not answer on any other address of this machine', async () => {
    for (const address of otherAddresses) expect(await accepts(address, server.port), address).toBe(false);
  });
});
