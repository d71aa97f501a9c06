// A throwaway PostgreSQL cluster from the machine's own binaries (no Docker): initdb in a temp dir, a free port on
// 127.0.0.1, the socket in the same dir, fsync on; as the postgres user when running as root (initdb refuses root).
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const HOW_TO_PROVIDE =
  'PostgreSQL tests need a server: set PG_TEST_URL=postgres://user:password@host:port/database (a role that may CREATE DATABASE), or install PostgreSQL (apt-get install -y postgresql) so initdb and pg_ctl can start a throwaway one';

export type Cluster = { url: string; stop: () => void };

function findBinDir(): string | undefined {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // no pg_config on PATH
  }
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => `/usr/lib/postgresql/${version}/bin`));
  }
  for (const dir of (process.env.PATH ?? '').split(':')) candidates.push(dir);
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** uid and gid of the postgres account when running as root; undefined when not root. */
function dropTo(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch (error) {
    throw new Error(`running as root and there is no postgres user to run initdb as. ${HOW_TO_PROVIDE}`, { cause: error });
  }
}

export async function startCluster(): Promise<Cluster> {
  const bin = findBinDir();
  if (!bin) throw new Error(HOW_TO_PROVIDE);
  const user = dropTo();
  const run = (program: string, args: string[]) => {
    const [file, argv] = user
      ? ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', join(bin, program), ...args]]
      : [join(bin, program), args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  };

  const dir = mkdtempSync('/tmp/chatlio-pg-');
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  try {
    // --no-sync only skips flushing initdb's own files: the running server keeps fsync on.
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    run('pg_ctl', [
      'start', '-w', '-D', data, '-l', join(dir, 'server.log'),
      '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300`,
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').at(-1) ?? String(error);
    throw new Error(`could not start a throwaway PostgreSQL (${stderr}). ${HOW_TO_PROVIDE}`, { cause: error });
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', data]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
