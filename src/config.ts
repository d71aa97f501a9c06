// Reads the environment into one validated, typed Config; a bad value stops the process with the variable's name.
import { isIP } from 'node:net';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const tokenList = z
  .string()
  .transform((value) => value.split(',').map((token) => token.trim()).filter((token) => token.length > 0))
  .pipe(z.array(z.string().min(24, 'each token must be at least 24 characters')).min(1, 'no token given'));

/** proxy-addr's names for address ranges, accepted beside addresses and CIDRs. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

// Fastify's trustProxy: true (trust every hop), a hop count, or the proxies' addresses; unset trusts no header.
const trustProxy = z.string().transform((value, context): boolean | number | string[] => {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  const bad = entries.filter((entry) => !isProxyAddress(entry));
  if (entries.length === 0 || bad.length > 0) {
    context.addIssue({ code: 'custom', message: `must be true, false, a hop count, or a comma-separated list of addresses or CIDRs (not ${bad.join(', ') || 'empty'})` });
    return z.NEVER;
  }
  return entries;
});

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // Only this machine unless asked: a laptop's `npm start` must not open the relay to its network. The image sets 0.0.0.0.
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  WEBHOOK_TOKEN: tokenList.optional(),
  API_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.default(false),
  LOG_MASK_PII: bool.default(false),
  BODY_LIMIT: z.coerce.number().int().min(1024).default(5 * 1024 * 1024),
  CONFIG_FILE: z.string().min(1).optional(),
  DB_SYNCHRONOUS: z.enum(['full', 'normal']).default('full'),
  DB_BUSY_TIMEOUT_MS: z.coerce.number().int().min(0).default(5000),
  REJECTIONS_MAX: z.coerce.number().int().min(1).default(10_000),
  METRICS_REQUIRE_TOKEN: bool.default(false),
  RETENTION_DAYS: z.coerce.number().int().min(1).optional(),
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).default(72_000),
  DATABASE_URL: z.string().refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL with a host').optional(),
  PG_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  PG_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  TRUST_PROXY: trustProxy.default(false),
});

/** postgres://… or postgresql://… that parses as a URL; the message never echoes it (it carries the password). */
function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  publicUrl?: string;
  /** Tokens from the environment; undefined means "generate or reuse one kept in DATA_DIR". */
  webhookTokens?: string[];
  apiToken?: string;
  logLevel: string;
  logPretty: boolean;
  logMaskPii: boolean;
  bodyLimit: number;
  configFile?: string;
  dbSynchronous: 'full' | 'normal';
  dbBusyTimeoutMs: number;
  rejectionsMax: number;
  /** When true, GET /metrics asks for the API token like /api does. */
  metricsRequireToken: boolean;
  /** Events older than this many days are deleted; undefined keeps them forever. */
  retentionDays?: number;
  /** A client must send its request headers within this (a connection that sends nothing is closed after it too). */
  headersTimeoutMs: number;
  /** A client must send its whole request, body included, within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** PostgreSQL instead of SQLite in DATA_DIR: several replicas share it, and nothing touches DATA_DIR. */
  databaseUrl?: string;
  pgPoolSize: number;
  pgStatementTimeoutMs: number;
  /**
   * Which X-Forwarded-For hops to believe for the client's address (request.ip: the sign-in lockout, the logs): false
   * believes none (the peer's address), true every hop, a number that many hops, a list the proxies at those addresses.
   */
  trustProxy: boolean | number | string[];
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws ConfigError naming every bad variable and why. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most twelve-factor services.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  // Node refuses a headers timeout longer than the whole-request timeout.
  const parsed = envSchema
    .refine((e) => e.HEADERS_TIMEOUT_MS <= e.REQUEST_TIMEOUT_MS, { path: ['HEADERS_TIMEOUT_MS'], message: 'must not exceed REQUEST_TIMEOUT_MS' })
    // Replicas must share their tokens, and with PostgreSQL nothing is kept in DATA_DIR to generate them into.
    .refine((e) => !e.DATABASE_URL || (e.WEBHOOK_TOKEN && e.API_TOKEN), {
      path: ['DATABASE_URL'],
      message: 'with PostgreSQL, WEBHOOK_TOKEN and API_TOKEN must both be set (replicas share them; nothing is generated into DATA_DIR)',
    })
    .safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`);
    throw new ConfigError(`invalid environment:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    webhookTokens: e.WEBHOOK_TOKEN,
    apiToken: e.API_TOKEN,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY,
    logMaskPii: e.LOG_MASK_PII,
    bodyLimit: e.BODY_LIMIT,
    configFile: e.CONFIG_FILE,
    dbSynchronous: e.DB_SYNCHRONOUS,
    dbBusyTimeoutMs: e.DB_BUSY_TIMEOUT_MS,
    rejectionsMax: e.REJECTIONS_MAX,
    metricsRequireToken: e.METRICS_REQUIRE_TOKEN,
    retentionDays: e.RETENTION_DAYS,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    databaseUrl: e.DATABASE_URL,
    pgPoolSize: e.PG_POOL_SIZE,
    pgStatementTimeoutMs: e.PG_STATEMENT_TIMEOUT_MS,
    trustProxy: e.TRUST_PROXY,
  };
}
