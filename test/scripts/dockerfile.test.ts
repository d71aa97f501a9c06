import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  compareComposeFacts,
  compareFacts,
  composeFacts,
  documentedComposeFacts,
  dockerignore,
  documentedFacts,
  imageFacts,
  parseDockerfile,
  parseInstructions,
  postgresComposeFacts,
  postgresComposeProblems,
} from '../../scripts/docker/dockerfile.js';

const repo = join(import.meta.dirname, '..', '..');
const read = (file: string) => readFileSync(join(repo, file), 'utf8');
const docsWithFacts = () =>
  ['README.md', 'docs/operations.md'].map((file) => join(repo, file)).find((file) => existsSync(file) && documentedFacts(readFileSync(file, 'utf8')));

// The fast half of verify:docker, so drift fails `npm test` too; the slow half (build and run) is `npm run verify:docker`.
describe('the Dockerfile against the docs', () => {
  it('has exactly the facts the "Docker image facts" table states', () => {
    const documented = documentedFacts(readFileSync(docsWithFacts()!, 'utf8'))!;
    expect(compareFacts(imageFacts(parseDockerfile(read('Dockerfile'))), documented)).toEqual([]);
  });

  it('reports each drift on its own line: a changed volume, a fact missing from the docs, a fact the check does not know', () => {
    const facts = imageFacts(parseDockerfile(read('Dockerfile')));
    const documented: Record<string, string> = { ...facts, volume: '/var/lib/chatlio-relay', colour: 'blue' };
    delete documented.port;
    expect(compareFacts(facts, documented)).toEqual([
      `"volume": the docs say /var/lib/chatlio-relay, the Dockerfile says ${facts.volume}`,
      `"port" is not documented (the Dockerfile says: ${facts.port})`,
      '"colour" is documented but not a fact this check knows',
    ]);
  });

  it('derives the facts from a Dockerfile: stages, ARG-substituted images, user, volume, healthcheck, init', () => {
    const dockerfile = parseDockerfile(`ARG BASE=node:22-slim
FROM \${BASE} AS build
RUN npm ci
FROM \${BASE} AS runtime
ENV DATA_DIR=/srv/data PORT=8080
USER 1001
VOLUME ["/srv/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s \\
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz')"]
ENTRYPOINT ["node", "cli.js"]
CMD ["serve"]
`);
    expect(imageFacts(dockerfile)).toEqual({
      stages: 'build, runtime',
      'base images': 'node:22-slim',
      user: '1001',
      volume: '/srv/data',
      DATA_DIR: '/srv/data',
      HOST: 'unset',
      port: '8080',
      healthcheck: 'node requests /healthz',
      'healthcheck timing': 'interval 10s, timeout default, start-period default, retries default',
      init: 'none',
      command: 'node cli.js serve',
    });
  });

  it('joins continuation lines and skips comments inside them', () => {
    expect(parseInstructions('RUN a \\\n# note\n && b\nUSER x\n')).toEqual([
      { keyword: 'RUN', args: 'a && b', line: 1 },
      { keyword: 'USER', args: 'x', line: 4 },
    ]);
  });
});

describe('.dockerignore', () => {
  const ignored = dockerignore(read('.dockerignore'));

  it('keeps tests, data, node_modules, .git, docs and invalid fixtures out of the build context', () => {
    for (const path of ['test/metrics.test.ts', 'data/chatlio-relay.sqlite', 'node_modules/fastify/package.json', '.git/HEAD', 'dist/cli.js', 'docs/operations.md', 'fixtures/invalid/truncated.json', '.env']) {
      expect(ignored(path), path).toBe(true);
    }
  });

  it('lets in what the build copies', () => {
    for (const path of ['package.json', 'package-lock.json', '.prebuild-installrc', 'tsconfig.json', 'tsconfig.build.json', 'src/cli.ts', 'src/store/migrations/001_events.sql', 'fixtures/valid/transcript/documented.json']) {
      expect(ignored(path), path).toBe(false);
    }
  });

  it('follows Docker’s rules: parents match, the last match wins, ** spans directories', () => {
    const rules = dockerignore('**/*.log\nsecret\n!secret/public\n');
    expect(rules('a/b/c.log')).toBe(true);
    expect(rules('secret/key')).toBe(true);
    expect(rules('secret/public/file')).toBe(false);
    expect(rules('src/app.ts')).toBe(false);
  });
});

describe('docker-compose.yml', () => {
  it('mounts its named volume on the image’s DATA_DIR and the example handlers file on CONFIG_FILE', () => {
    const compose = composeFacts(read('docker-compose.yml'));
    expect(compose.volumeTarget).toBe(imageFacts(parseDockerfile(read('Dockerfile'))).DATA_DIR);
    expect(compose.configMount?.target).toBe(compose.configFile);
    expect(existsSync(join(repo, compose.configMount!.source))).toBe(true);
  });
});

describe('docker-compose.postgres.yml', () => {
  const text = read('docker-compose.postgres.yml');
  const exists = (path: string) => existsSync(join(repo, path));

  it('runs a healthy PostgreSQL on a named volume and two replicas that share it, with tokens from the environment', () => {
    expect(postgresComposeProblems(text, exists)).toEqual([]);
  });

  it('has exactly the services, volume and variables the README\'s "PostgreSQL compose facts" table lists', () => {
    const documented = documentedComposeFacts(read('README.md'));
    expect(documented).toBeDefined();
    expect(compareComposeFacts(postgresComposeFacts(text), documented!)).toEqual([]);
  });

  it('reports a replica with a literal token, one without the health condition, and a database without a volume', () => {
    const broken = text
      .replace('API_TOKEN: ${API_TOKEN:?', 'API_TOKEN: literal-token-${API_TOKEN:?')
      .replace('condition: service_healthy', 'condition: service_started')
      .replace('- chatlio-relay-pg:/var/lib/postgresql/data', '- ./pgdata:/var/lib/postgresql/data');
    expect(postgresComposeProblems(broken, exists)).toEqual([
      'postgres keeps /var/lib/postgresql/data on no named volume',
      'relay-1: API_TOKEN must come from the environment as ${API_TOKEN:?…}',
      'relay-1: no depends_on postgres with condition service_healthy',
      'relay-2: API_TOKEN must come from the environment as ${API_TOKEN:?…}',
      'relay-2: no depends_on postgres with condition service_healthy',
      'postgres mounts ./pgdata, which does not exist',
    ]);
  });

  it('reports a service or variable the README does not list, and one it lists that is gone', () => {
    const facts = postgresComposeFacts(text);
    const documented = { ...facts, services: facts.services.replace(', proxy', ''), 'replica environment': `${facts['replica environment']}, DATA_DIR` };
    expect(compareComposeFacts(facts, documented)).toEqual([
      `"services": the README says ${documented.services}, the compose file says ${facts.services}`,
      `"replica environment": the README says ${documented['replica environment']}, the compose file says ${facts['replica environment']}`,
    ]);
  });
});
