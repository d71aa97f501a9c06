// verify:docker — replays the Dockerfile's build and run steps without Docker on a clean copy of the repo, then
// checks that the Dockerfile, docker-compose.yml and the docs' "Docker image facts" table agree. Exits 1 on any drift.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import {
  compareComposeFacts,
  compareFacts,
  composeFacts,
  documentedComposeFacts,
  dockerignore,
  documentedFacts,
  envPairs,
  execForm,
  imageFacts,
  last,
  parseDockerfile,
  parseHealthcheck,
  postgresComposeFacts,
  postgresComposeProblems,
  type Dockerfile,
  type Stage,
} from './docker/dockerfile.js';

const repo = join(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');
// The official node images create `node` as uid/gid 1000; numeric USERs are taken as they are.
const KNOWN_USERS: Record<string, { uid: number; gid: number }> = { node: { uid: 1000, gid: 1000 } };
const STOP_GRACE_MS = 15_000;
const HEALTHY_WITHIN_MS = 30_000;

const log = (message: string) => console.log(`verify:docker: ${message}`);
class VerifyError extends Error {}
const fail = (message: string): never => {
  throw new VerifyError(message);
};

let server: ChildProcess | undefined;
let work: string | undefined;

async function main(): Promise<void> {
  const dockerfile = parseDockerfile(readFileSync(join(repo, 'Dockerfile'), 'utf8'));
  checkStatically(dockerfile);

  work = mkdtempSync(join(tmpdir(), 'chatlio-relay-verify-docker-'));
  // Traversable by the unprivileged user the server runs as, like the image's root-owned /app.
  chmodSync(work, 0o755);
  const context = copyContext(join(work, 'context'));
  const roots = new Map<string, string>();
  const envs = new Map<string, Record<string, string>>();
  for (const stage of dockerfile.stages) {
    const { root, env } = await replayStage(stage, join(work, 'stages', stage.name), context, roots);
    roots.set(stage.name, root);
    envs.set(stage.name, env);
  }
  const runtime = dockerfile.stages.at(-1)!;
  checkProductionOnly(runtime, roots.get(runtime.name)!);
  await runLikeTheContainer(runtime, roots.get(runtime.name)!, envs.get(runtime.name)!, work);
}

/** The Dockerfile, the compose file and the docs agree; the image has the properties an operator relies on. */
function checkStatically(dockerfile: Dockerfile): void {
  const facts = imageFacts(dockerfile);
  const docsFile = ['README.md', 'docs/operations.md']
    .map((file) => join(repo, file))
    .find((file) => existsSync(file) && documentedFacts(readFileSync(file, 'utf8')) !== undefined);
  if (!docsFile) fail('no "Docker image facts" table in README.md or docs/operations.md');
  const documented = documentedFacts(readFileSync(docsFile!, 'utf8'))!;
  const drift = compareFacts(facts, documented);
  if (drift.length > 0) fail(`the Dockerfile and ${docsFile!.slice(repo.length + 1)} disagree:\n  ${drift.join('\n  ')}`);
  log(`Dockerfile matches the "Docker image facts" in ${docsFile!.slice(repo.length + 1)} (${Object.keys(facts).length} facts)`);

  const problems: string[] = [];
  const runtime = dockerfile.stages.at(-1)!;
  const env = Object.assign({}, ...runtime.instructions.filter((i) => i.keyword === 'ENV').map((i) => envPairs(i.args))) as Record<string, string>;
  if (dockerfile.stages.length < 2) problems.push('expected a build stage and a runtime stage');
  if (['root', '0', '0:0'].includes(facts.user!)) problems.push('the runtime stage runs as root');
  if (!facts.volume!.split(', ').includes(env.DATA_DIR ?? '')) problems.push(`DATA_DIR (${env.DATA_DIR}) is not a VOLUME (${facts.volume})`);
  if (env.PORT !== facts.port) problems.push(`ENV PORT (${env.PORT}) differs from EXPOSE (${facts.port})`);
  // The server's own default is 127.0.0.1, which a published port cannot reach: the image must say 0.0.0.0.
  if (env.HOST !== '0.0.0.0') problems.push(`ENV HOST is ${env.HOST ?? 'unset (127.0.0.1)'}: the published port would not reach the server`);
  if (!facts.healthcheck!.startsWith('node requests /readyz')) problems.push(`the HEALTHCHECK should ask /readyz with node, not: ${facts.healthcheck}`);
  if (facts.init === 'none') problems.push('no init as PID 1 (tini): SIGTERM would not reach node');
  else if (!runtime.instructions.some((i) => i.keyword === 'RUN' && i.args.includes(facts.init!))) problems.push(`${facts.init} is the entrypoint but never installed`);
  if (!execForm(last(runtime, 'ENTRYPOINT')?.args ?? '')) problems.push('ENTRYPOINT must use the exec form so signals reach the init');

  const compose = composeFacts(readFileSync(join(repo, 'docker-compose.yml'), 'utf8'));
  if (compose.volumeTarget !== env.DATA_DIR) problems.push(`docker-compose.yml mounts its named volume on ${compose.volumeTarget}, not DATA_DIR ${env.DATA_DIR}`);
  if (!compose.configMount || !existsSync(join(repo, compose.configMount.source)) || !statSync(join(repo, compose.configMount.source)).isFile()) {
    problems.push(`docker-compose.yml mounts a config file that does not exist: ${compose.configMount?.source}`);
  } else if (compose.configFile !== compose.configMount.target) {
    problems.push(`docker-compose.yml sets CONFIG_FILE=${compose.configFile} but mounts the file on ${compose.configMount.target}`);
  }
  if (problems.length > 0) fail(`the image definition is wrong:\n  ${problems.join('\n  ')}`);
  log('stages, non-root user, volume, port, healthcheck, init and docker-compose.yml check out');
  checkPostgresCompose();
}

/** docker-compose.postgres.yml: a healthy database on a named volume, replicas sharing it, and the README's table. */
function checkPostgresCompose(): void {
  const file = 'docker-compose.postgres.yml';
  const text = readFileSync(join(repo, file), 'utf8');
  const problems = postgresComposeProblems(text, (path) => existsSync(join(repo, path)));
  if (problems.length > 0) fail(`${file} is wrong:\n  ${problems.join('\n  ')}`);
  const documented = documentedComposeFacts(readFileSync(join(repo, 'README.md'), 'utf8'));
  if (!documented) fail('no "PostgreSQL compose facts" table in README.md');
  const drift = compareComposeFacts(postgresComposeFacts(text), documented!);
  if (drift.length > 0) fail(`${file} and README.md disagree:\n  ${drift.join('\n  ')}`);
  log(`${file}: database with healthcheck and named volume, replicas sharing it; matches the README's "PostgreSQL compose facts"`);
}

/** The build context: the repo's files (tracked, or new and not git-ignored), less what .dockerignore keeps out. */
function copyContext(context: string): string {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo, encoding: 'utf8' });
  if (listed.status !== 0) fail(`git ls-files failed: ${listed.stderr}`);
  const ignored = dockerignore(existsSync(join(repo, '.dockerignore')) ? readFileSync(join(repo, '.dockerignore'), 'utf8') : '');
  const files = listed.stdout.split('\0').filter((file) => file && existsSync(join(repo, file)) && !ignored(file));
  for (const file of files) {
    mkdirSync(dirname(join(context, file)), { recursive: true });
    cpSync(join(repo, file), join(context, file));
  }
  for (const kept of ['test', 'data', 'node_modules', '.git']) {
    if (files.some((file) => file === kept || file.startsWith(`${kept}/`))) fail(`.dockerignore lets ${kept}/ into the build context`);
  }
  log(`build context: ${files.length} files after .dockerignore`);
  return context;
}

/** Replays one stage: WORKDIR, ENV and COPY as Docker does them, npm RUN steps for real; OS package steps are reported. */
async function replayStage(stage: Stage, root: string, context: string, roots: Map<string, string>) {
  mkdirSync(root, { recursive: true });
  let cwd = '/';
  const env: Record<string, string> = {};
  const at = (path: string) => join(root, posix.resolve(cwd, path));
  for (const instruction of stage.instructions) {
    const where = `${stage.name} stage, Dockerfile line ${instruction.line}`;
    switch (instruction.keyword) {
      case 'WORKDIR':
        cwd = posix.resolve(cwd, instruction.args);
        mkdirSync(join(root, cwd), { recursive: true });
        break;
      case 'ENV':
        Object.assign(env, envPairs(instruction.args));
        break;
      case 'COPY': {
        const words = execForm(instruction.args) ?? instruction.args.split(/\s+/);
        const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((word) => !word.startsWith('--'));
        const dest = paths.pop()!;
        const sourceRoot = from === undefined ? context : roots.get(from);
        if (!sourceRoot) fail(`${where}: COPY --from=${from} names no earlier stage`);
        for (const source of paths) {
          const path = join(sourceRoot!, from === undefined ? source : posix.resolve('/', source));
          if (!existsSync(path)) fail(`${where}: COPY ${source}: not in the ${from === undefined ? 'build context (see .dockerignore)' : `${from} stage`}`);
          const into = dest.endsWith('/') || paths.length > 1 ? join(at(dest), basename(path)) : at(dest);
          const target = statSync(path).isDirectory() ? at(dest) : into;
          mkdirSync(dirname(target), { recursive: true });
          cpSync(path, target, { recursive: true, verbatimSymlinks: true });
        }
        break;
      }
      case 'RUN': {
        // Steps inside the stage's own files (npm, or commands on relative paths) run for real; steps that set up the
        // image's OS (apt-get, absolute paths such as /data or /usr/local/bin) cannot run on this host.
        if (/\bapt-get\b|(^|\s)\//.test(instruction.args)) {
          log(`  skipped (an OS step the image's Debian does; this host has its own): RUN ${instruction.args}`);
          break;
        }
        log(`  ${stage.name}: RUN ${instruction.args}`);
        const started = Date.now();
        await run('sh', ['-c', instruction.args], {
          cwd: join(root, cwd),
          // A fresh npm cache: nothing built or downloaded earlier on this machine is reused, as in a clean image build.
          env: { ...process.env, ...env, npm_config_cache: join(work!, 'npm-cache'), npm_config_update_notifier: 'false' },
          what: `${where}: RUN ${instruction.args}`,
        });
        log(`  ${stage.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        break;
      }
      default:
        break;
    }
  }
  return { root, env: { ...env, WORKDIR: cwd } };
}

/** The runtime stage holds the production dependencies only. */
function checkProductionOnly(runtime: Stage, root: string): void {
  const workdir = posix.resolve('/', last(runtime, 'WORKDIR')?.args ?? '/');
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const present = Object.keys(manifest.devDependencies ?? {}).filter((name) => existsSync(join(root, workdir, 'node_modules', name)));
  if (present.length > 0) fail(`the runtime stage has dev dependencies: ${present.join(', ')}`);
  log(`runtime stage: production dependencies only; ${workdir} holds ${(sizeOf(join(root, workdir)) / 1e6).toFixed(0)} MB`);
}

function sizeOf(path: string): number {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((total, entry) => total + sizeOf(join(path, entry)), 0);
}

/** Starts the runtime stage's ENTRYPOINT + CMD as its USER on a fresh volume; HEALTHCHECK, `send`, then SIGTERM. */
async function runLikeTheContainer(runtime: Stage, root: string, stageEnv: Record<string, string>, scratch: string): Promise<void> {
  const { WORKDIR: workdir = '/', ...imageEnv } = stageEnv;
  const user = runAs(last(runtime, 'USER')?.args ?? 'root');
  const volumes = execForm(last(runtime, 'VOLUME')?.args ?? '') ?? (last(runtime, 'VOLUME')?.args ?? '').split(/\s+/).filter(Boolean);
  const mapped = (value: string) => {
    const volume = volumes.find((v) => value === v || value.startsWith(`${v}/`));
    if (volume) return join(scratch, 'volumes', value);
    return value.startsWith('/') && existsSync(join(root, value)) ? join(root, value) : value;
  };
  for (const volume of volumes) {
    mkdirSync(join(scratch, 'volumes', volume), { recursive: true });
    // The image creates its volume directories owned by USER (RUN chown); a fresh named volume starts as that copy.
    if (user.wrap.length > 0) chownSync(join(scratch, 'volumes', volume), user.uid, user.gid);
  }
  const home = join(scratch, 'home');
  mkdirSync(home);
  if (user.wrap.length > 0) chownSync(home, user.uid, user.gid);
  const port = await freePort();
  // Like `docker run -p <free port>:3000`: the container's port is remapped, nothing else.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...Object.fromEntries(Object.entries(imageEnv).map(([k, v]) => [k, mapped(v)])), PORT: String(port) };
  const cwd = join(root, workdir);

  let command = [...(execForm(last(runtime, 'ENTRYPOINT')?.args ?? '[]') ?? []), ...(execForm(last(runtime, 'CMD')?.args ?? '[]') ?? [])];
  if (/(^|\/)(tini|dumb-init)$/.test(command[0] ?? '') && !existsSync(command[0]!)) {
    log(`  ${command[0]} is not on this host: starting what it runs directly (node handles SIGTERM itself; tini only forwards it)`);
    command = command.slice(command.indexOf('--') + 1);
  }
  command = command.map(mapped);
  const health = parseHealthcheck(last(runtime, 'HEALTHCHECK')!.args);
  const healthcheck = () => run(user.wrap[0] ?? health.command[0]!, [...user.wrap.slice(1), ...(user.wrap.length ? health.command : health.command.slice(1))], { cwd, env, what: 'HEALTHCHECK', quiet: true });

  if (await healthcheck().then(() => true, () => false)) fail('the HEALTHCHECK passes with no server running: it checks nothing');
  log(`starting as ${user.label} with ${process.version} (the image has ${runtime.image}): ${command.join(' ')}`);
  let output = '';
  server = spawn(user.wrap[0] ?? command[0]!, [...user.wrap.slice(1), ...(user.wrap.length ? command : command.slice(1))], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => server!.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));

  const deadline = Date.now() + HEALTHY_WITHIN_MS;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) fail(`the server exited before it was healthy:\n${output}`);
    if (await healthcheck().then(() => true, () => false)) break;
    if (Date.now() > deadline) fail(`the HEALTHCHECK did not pass within ${HEALTHY_WITHIN_MS / 1000} s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  log(`HEALTHCHECK passes: ${health.command.join(' ').slice(0, 90)}…`);

  const dataDir = env.DATA_DIR!;
  for (const file of ['chatlio-relay.sqlite', 'webhook-token', 'api-token']) {
    const stat = statSync(join(dataDir, file));
    if (user.wrap.length > 0 && stat.uid !== user.uid) fail(`${file} in the volume is owned by uid ${stat.uid}, not ${user.label}`);
  }
  // `docker logs` is captured output, not a terminal: the first start says where the tokens are, never the token itself.
  const webhookToken = readFileSync(join(dataDir, 'webhook-token'), 'utf8').trim();
  if (output.includes(webhookToken)) fail('the first start wrote the webhook token into the container\'s output (docker logs)');
  if (!output.includes('chatlio-relay urls')) fail(`the first start did not say how to print the webhook URLs:\n${output}`);
  // The image's own CLI, as `docker exec` would run it: the sample payload ships in the image, the token is in the volume.
  const cli = command.slice(0, command.indexOf('serve'));
  const urls = await run(user.wrap[0] ?? cli[0]!, [...user.wrap.slice(1), ...(user.wrap.length ? cli : cli.slice(1)), 'urls'], { cwd, env, what: 'chatlio-relay urls' });
  if (!urls.includes(`?token=${webhookToken}`)) fail(`chatlio-relay urls printed no webhook URL with the token:\n${urls}`);
  const sent = await run(user.wrap[0] ?? cli[0]!, [...user.wrap.slice(1), ...(user.wrap.length ? cli : cli.slice(1)), 'send', 'transcript'], {
    cwd,
    env,
    what: 'chatlio-relay send transcript',
  });
  if (!/"duplicate":false/.test(sent)) fail(`chatlio-relay send transcript printed: ${sent}`);
  log('first start kept the token out of its output; `chatlio-relay urls` prints the URLs; data files owned by the runtime user; `chatlio-relay send transcript` stored the sample');

  const stopping = Date.now();
  server.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), STOP_GRACE_MS))]);
  if (code !== 0) fail(`SIGTERM: expected exit code 0 within ${STOP_GRACE_MS / 1000} s, got ${code}:\n${output}`);
  log(`SIGTERM: exited 0 after ${Date.now() - stopping} ms`);
  server = undefined;
}

/** How to start a process as the image's USER: setpriv when we are root, as ourselves otherwise (already unprivileged). */
function runAs(name: string): { uid: number; gid: number; label: string; wrap: string[] } {
  const [userPart, groupPart] = name.split(':');
  const known = KNOWN_USERS[userPart!] ?? (/^\d+$/.test(userPart!) ? { uid: Number(userPart), gid: Number(groupPart ?? userPart) } : undefined);
  if (!known) fail(`USER ${name}: no uid known for it; add it to KNOWN_USERS in scripts/verify-docker.ts`);
  if (known!.uid === 0) fail('USER is root');
  if (process.getuid?.() !== 0) return { ...known!, label: `the current user (uid ${process.getuid?.()}), not root`, wrap: [] };
  return {
    ...known!,
    label: `uid ${known!.uid} (USER ${name})`,
    wrap: ['setpriv', `--reuid=${known!.uid}`, `--regid=${known!.gid}`, '--clear-groups', '--'],
  };
}

function run(file: string, args: string[], options: { cwd: string; env: Record<string, string | undefined>; what: string; quiet?: boolean }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => reject(new VerifyError(`${options.what}: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new VerifyError(`${options.what} exited ${code}${options.quiet ? '' : `:\n${output.slice(-4000)}`}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const started = Date.now();
main()
  .then(() => log(`OK in ${((Date.now() - started) / 1000).toFixed(0)} s`))
  .catch((error: unknown) => {
    console.error(`verify:docker: FAILED: ${error instanceof VerifyError ? error.message : (error as Error).stack}`);
    process.exitCode = 1;
  })
  .finally(() => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    if (work && !keep) rmSync(work, { recursive: true, force: true });
    else if (work) log(`kept ${work}`);
  });
