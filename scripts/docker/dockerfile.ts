// Reads the Dockerfile, .dockerignore and the docs' "Docker image facts" table, so verify:docker can replay and check them.
import { parse as parseYaml } from 'yaml';

export type Instruction = { keyword: string; args: string; line: number };
export type Stage = { name: string; image: string; instructions: Instruction[] };
export type Dockerfile = { args: Record<string, string>; stages: Stage[] };

/** Instructions with continuation lines joined and comments dropped (a `#` comment only counts at a line's start). */
export function parseInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (!pending && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending && line.trimStart().startsWith('#')) return;
    const continued = line.endsWith('\\');
    const body = continued ? line.slice(0, -1) : line;
    pending = pending ? { text: `${pending.text} ${body.trim()}`, line: pending.line } : { text: body.trim(), line: index + 1 };
    if (continued) return;
    const match = /^(\S+)\s*(.*)$/.exec(pending.text)!;
    instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: pending.line });
    pending = undefined;
  });
  if (pending) throw new Error(`Dockerfile line ${pending.line}: continuation runs off the end`);
  return instructions;
}

const substitute = (text: string, args: Record<string, string>) =>
  text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => args[braced ?? bare ?? ''] ?? whole);

export function parseDockerfile(text: string): Dockerfile {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = instruction.args.split('=', 2) as [string, string?];
      args[name.trim()] = value.trim();
    } else if (instruction.keyword === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!match) throw new Error(`Dockerfile line ${instruction.line}: cannot read FROM ${instruction.args}`);
      stages.push({ image: substitute(match[1]!, args), name: match[2] ?? String(stages.length), instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  if (stages.length === 0) throw new Error('Dockerfile has no FROM');
  return { args, stages };
}

/** The JSON-array ("exec") form of RUN/CMD/ENTRYPOINT/HEALTHCHECK CMD; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw new Error(`not an exec form: ${args}`);
  return parsed;
}

/** `ENV A=1 B=2` (and the legacy `ENV A 1`). Values with spaces must be quoted. */
export function envPairs(args: string): Record<string, string> {
  if (!args.includes('=')) {
    const [name, ...rest] = args.split(/\s+/);
    return { [name!]: rest.join(' ') };
  }
  const pairs: Record<string, string> = {};
  for (const match of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    pairs[match[1]!] = match[2]!.startsWith('"') ? (JSON.parse(match[2]!) as string) : match[2]!;
  }
  return pairs;
}

export type Healthcheck = { options: Record<string, string>; command: string[] };

export function parseHealthcheck(args: string): Healthcheck {
  const options: Record<string, string> = {};
  let rest = args;
  for (let match = /^--([\w-]+)=(\S+)\s+/.exec(rest); match; match = /^--([\w-]+)=(\S+)\s+/.exec(rest)) {
    options[match[1]!] = match[2]!;
    rest = rest.slice(match[0].length);
  }
  if (!rest.startsWith('CMD ')) throw new Error(`HEALTHCHECK must be "CMD [...]": ${args}`);
  const command = execForm(rest.slice(4).trim());
  if (!command) throw new Error('HEALTHCHECK CMD must use the exec (JSON array) form, so it needs no shell');
  return { options, command };
}

/** The last instruction of `keyword` in a stage. */
export const last = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).at(-1);

export type ImageFacts = Record<string, string>;

/** What the Dockerfile says about the image it builds, in the words of the "Docker image facts" table. */
export function imageFacts(dockerfile: Dockerfile): ImageFacts {
  const runtime = dockerfile.stages.at(-1)!;
  const env = Object.assign({}, ...runtime.instructions.filter((i) => i.keyword === 'ENV').map((i) => envPairs(i.args))) as Record<string, string>;
  const health = last(runtime, 'HEALTHCHECK');
  const healthcheck = health ? parseHealthcheck(health.args) : undefined;
  const entrypoint = execForm(last(runtime, 'ENTRYPOINT')?.args ?? '[]') ?? [];
  const cmd = execForm(last(runtime, 'CMD')?.args ?? '[]') ?? [];
  const init = /(^|\/)(tini|dumb-init)$/.exec(entrypoint[0] ?? '')?.[2] ?? 'none';
  const probe = healthcheck?.command.join(' ').match(/\/(readyz|healthz)\b/)?.[0];
  return {
    stages: dockerfile.stages.map((stage) => stage.name).join(', '),
    'base images': [...new Set(dockerfile.stages.map((stage) => stage.image))].join(', '),
    user: last(runtime, 'USER')?.args ?? 'root',
    volume: (execForm(last(runtime, 'VOLUME')?.args ?? '') ?? (last(runtime, 'VOLUME')?.args ?? 'none').split(/\s+/)).join(', '),
    DATA_DIR: env.DATA_DIR ?? 'unset',
    HOST: env.HOST ?? 'unset',
    port: last(runtime, 'EXPOSE')?.args ?? 'none',
    healthcheck: healthcheck ? `${healthcheck.command[0]} requests ${probe ?? '(no probe path)'}` : 'none',
    'healthcheck timing': healthcheck
      ? ['interval', 'timeout', 'start-period', 'retries'].map((name) => `${name} ${healthcheck.options[name] ?? 'default'}`).join(', ')
      : 'none',
    init,
    command: [...entrypoint, ...cmd].join(' '),
  };
}

/** The "Docker image facts" table: the first Markdown table after a heading containing those words. */
export function documentedFacts(markdown: string): ImageFacts | undefined {
  return factsTable(markdown, /^#{1,6}\s.*Docker image facts/i, (cell) => cell.replace(/^`(.*)`$/, '$1'));
}

/** The first Markdown table under the heading `heading` matches, as fact → value (its first two columns). */
function factsTable(markdown: string, heading: RegExp, unquote: (cell: string) => string): Record<string, string> | undefined {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => heading.test(line));
  if (start < 0) return undefined;
  const facts: Record<string, string> = {};
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,6}\s/.test(line)) break;
    if (!line.trim().startsWith('|')) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = line.trim().replace(/^\||\|$/g, '').split('|').map((cell) => unquote(cell.trim()));
    if (cells.length < 2 || /^:?-+:?$/.test(cells[0]!) || cells[0] === 'fact') continue;
    facts[cells[0]!] = cells[1]!;
  }
  return facts;
}

/** Every disagreement between the Dockerfile and the docs, one line each; empty when they agree. */
export function compareFacts(actual: ImageFacts, documented: ImageFacts): string[] {
  const problems: string[] = [];
  for (const [fact, value] of Object.entries(actual)) {
    if (!(fact in documented)) problems.push(`"${fact}" is not documented (the Dockerfile says: ${value})`);
    else if (documented[fact] !== value) problems.push(`"${fact}": the docs say ${documented[fact]}, the Dockerfile says ${value}`);
  }
  for (const fact of Object.keys(documented)) if (!(fact in actual)) problems.push(`"${fact}" is documented but not a fact this check knows`);
  return problems;
}

/** Docker's .dockerignore rules: glob patterns, a path is excluded when it or a parent matches, the last match wins, `!` re-includes. */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const pattern = (include ? line.slice(1) : line).trim().replace(/^\/+|\/+$/g, '');
      return { include, regex: globToRegex(pattern) };
    });
  return (path) => {
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) if (candidates.some((candidate) => rule.regex.test(candidate))) excluded = !rule.include;
    return excluded;
  };
}

function globToRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export type ComposeFacts = { volumeTarget?: string; configMount?: { source: string; target: string }; configFile?: string };

/** The parts of docker-compose.yml that must agree with the image: the data volume and the mounted handlers file. */
export function composeFacts(text: string): ComposeFacts {
  const compose = parseYaml(text) as { services?: Record<string, { volumes?: string[]; environment?: Record<string, string> }> };
  const service = Object.values(compose.services ?? {})[0];
  if (!service) throw new Error('docker-compose.yml has no service');
  const mounts = (service.volumes ?? []).map((volume) => {
    const [source = '', target = ''] = volume.split(':');
    return { source, target };
  });
  return {
    volumeTarget: mounts.find((mount) => !mount.source.startsWith('.') && !mount.source.startsWith('/'))?.target,
    configMount: mounts.find((mount) => mount.source.startsWith('.')),
    configFile: service.environment?.CONFIG_FILE,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// docker-compose.postgres.yml: PostgreSQL and the replicas, checked against its own structure and the README.

type ComposeService = {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null>;
  volumes?: string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: unknown };
};
type ComposeFile = { services?: Record<string, ComposeService>; volumes?: Record<string, unknown> };

/** The names the README's "PostgreSQL compose facts" table lists, as sets: services, volumes, variables. */
export type PostgresComposeFacts = {
  services: string;
  volumes: string;
  'replica environment': string;
  'from your environment': string;
};

const list = (names: Iterable<string>) => [...new Set(names)].join(', ');
const isReplica = (service: ComposeService) => service.build !== undefined || (service.image ?? '').startsWith('chatlio-relay');
const mounts = (service: ComposeService) =>
  (service.volumes ?? []).map((volume) => {
    const [source = '', target = ''] = volume.split(':');
    return { source, target };
  });

// Merge keys (<<: *relay) are Docker Compose's way to share one definition between replicas.
const parseCompose = (text: string) => parseYaml(text, { merge: true }) as ComposeFile;

export function postgresComposeFacts(text: string): PostgresComposeFacts {
  const compose = parseCompose(text);
  const services = compose.services ?? {};
  const replicas = Object.values(services).filter(isReplica);
  return {
    services: list(Object.keys(services)),
    volumes: list(Object.keys(compose.volumes ?? {})),
    'replica environment': list(replicas.flatMap((service) => Object.keys(service.environment ?? {}))),
    // ${NAME}, ${NAME:-default}, ${NAME:?message}: what the operator must (or may) provide.
    'from your environment': list([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((match) => match[1]!)),
  };
}

/** What PostgreSQL mode needs of the compose file: a healthy database on a named volume, replicas that share it. */
export function postgresComposeProblems(text: string, exists: (path: string) => boolean): string[] {
  const compose = parseCompose(text);
  const services = compose.services ?? {};
  const volumes = Object.keys(compose.volumes ?? {});
  const problems: string[] = [];
  const database = Object.entries(services).find(([, service]) => /^postgres:\d+/.test(service.image ?? ''));
  if (!database) return ['no postgres:<version> service'];
  const [databaseName, databaseService] = database;
  if (Number.parseInt(databaseService.image!.slice('postgres:'.length), 10) < 13) problems.push(`${databaseService.image}: PostgreSQL 13 or newer is needed`);
  if (!databaseService.healthcheck?.test) problems.push(`${databaseName} has no healthcheck: replicas would start before it accepts connections`);
  const dataMount = mounts(databaseService).find((mount) => mount.target === '/var/lib/postgresql/data');
  if (!dataMount || !volumes.includes(dataMount.source)) problems.push(`${databaseName} keeps /var/lib/postgresql/data on no named volume`);

  const replicas = Object.entries(services).filter(([, service]) => isReplica(service));
  if (replicas.length < 2) problems.push(`${replicas.length} chatlio-relay replica(s): the PostgreSQL set-up runs at least two`);
  for (const [name, service] of replicas) {
    const env = service.environment ?? {};
    const url = String(env.DATABASE_URL ?? '');
    if (!url.startsWith('postgres://') || !url.includes(`@${databaseName}:`)) problems.push(`${name}: DATABASE_URL does not point at the ${databaseName} service`);
    for (const token of ['WEBHOOK_TOKEN', 'API_TOKEN']) {
      // Replicas must share their tokens, and a token written into the compose file would end up in git.
      if (!/^\$\{[A-Z_]+:\?/.test(String(env[token] ?? ''))) problems.push(`${name}: ${token} must come from the environment as \${${token}:?…}`);
    }
    const dependsOn = Array.isArray(service.depends_on) ? {} : (service.depends_on ?? {});
    if (dependsOn[databaseName]?.condition !== 'service_healthy') problems.push(`${name}: no depends_on ${databaseName} with condition service_healthy`);
    if (JSON.stringify(env) !== JSON.stringify(replicas[0]![1].environment ?? {})) problems.push(`${name}: its environment differs from ${replicas[0]![0]}'s`);
  }
  for (const [name, service] of Object.entries(services)) {
    for (const mount of mounts(service)) {
      if (mount.source.startsWith('.') && !exists(mount.source)) problems.push(`${name} mounts ${mount.source}, which does not exist`);
    }
  }
  return problems;
}

/** The README's "PostgreSQL compose facts" table, each row a comma-separated list of names. */
export function documentedComposeFacts(markdown: string): Record<string, string> | undefined {
  return factsTable(markdown, /^#{1,6}\s.*PostgreSQL compose facts/i, (cell) => cell.replaceAll('`', ''));
}

/** Every list that differs between the compose file and the README, one line each; the order of names does not count. */
export function compareComposeFacts(actual: PostgresComposeFacts, documented: Record<string, string>): string[] {
  const names = (value: string) => value.split(',').map((name) => name.trim()).filter(Boolean).sort();
  const problems: string[] = [];
  for (const [fact, value] of Object.entries(actual)) {
    if (!(fact in documented)) problems.push(`"${fact}" is not documented (the compose file says: ${value})`);
    else if (names(documented[fact]!).join() !== names(value).join()) problems.push(`"${fact}": the README says ${documented[fact]}, the compose file says ${value}`);
  }
  for (const fact of Object.keys(documented)) if (!(fact in actual)) problems.push(`"${fact}" is documented but not a fact this check knows`);
  return problems;
}
