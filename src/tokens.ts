// Webhook and API tokens: taken from the environment, or generated once and kept owner-only in DATA_DIR.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import { formatWebhookUrls, inboxUrl } from './urls.js';

export type Tokens = {
  webhook: string[];
  api: string;
  /** Where each generated token is kept; set only for tokens that came from DATA_DIR. */
  webhookFile?: string;
  apiFile?: string;
  /** True when a token was generated in this call (first start). */
  generated: boolean;
};

export const WEBHOOK_TOKEN_FILE = 'webhook-token';
export const API_TOKEN_FILE = 'api-token';

/** The token kept at `path`; undefined when there is none (yet). */
function readExisting(path: string): string | undefined {
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 24) return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return undefined;
}

function readOrCreate(path: string): { token: string; created: boolean } {
  const existing = readExisting(path);
  if (existing) return { token: existing, created: false };
  const token = randomBytes(32).toString('base64url');
  // 'wx' fails if another process created it meanwhile; mode 0600 keeps it owner-only.
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { token, created: true };
}

/** Both tokens from the environment touch nothing on disk: with PostgreSQL, DATA_DIR is never read nor created. */
export function resolveTokens(dataDir: string, fromEnv: { webhookTokens?: string[]; apiToken?: string }): Tokens {
  // Owner-only: DATA_DIR holds the tokens and visitors' personal data (created 0700 whatever the umask).
  if (!fromEnv.webhookTokens || !fromEnv.apiToken) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let generated = false;
  const tokens: Tokens = { webhook: fromEnv.webhookTokens ?? [], api: fromEnv.apiToken ?? '', generated };
  if (!fromEnv.webhookTokens) {
    const path = join(dataDir, WEBHOOK_TOKEN_FILE);
    const { token, created } = readOrCreate(path);
    tokens.webhook = [token];
    tokens.webhookFile = path;
    generated ||= created;
  }
  if (!fromEnv.apiToken) {
    const path = join(dataDir, API_TOKEN_FILE);
    const { token, created } = readOrCreate(path);
    tokens.api = token;
    tokens.apiFile = path;
    generated ||= created;
  }
  tokens.generated = generated;
  return tokens;
}

/**
 * What the first start prints. The webhook URLs carry the token, so they are for a person at a terminal only: captured
 * output (docker logs, journald, a log shipper) gets where the tokens are kept and how to print the URLs instead.
 */
export function firstStartBanner(config: Pick<Config, 'publicUrl' | 'host' | 'port'>, tokens: Tokens, toTerminal: boolean): string {
  const apiWhere = tokens.apiFile ? `kept in ${tokens.apiFile} (owner-only)` : 'from API_TOKEN';
  if (toTerminal) return formatWebhookUrls(config, tokens.webhook[0]!, apiWhere);
  const webhookWhere = tokens.webhookFile ? `kept in ${tokens.webhookFile} (owner-only)` : 'from WEBHOOK_TOKEN';
  return [
    `chatlio-relay: first start. Webhook token: ${webhookWhere}. API token: ${apiWhere}.`,
    'chatlio-relay: this output is not a terminal, so the webhook URLs (which carry the token) are not printed here.',
    'chatlio-relay: print them with `chatlio-relay urls` (in the container: `docker exec <container> chatlio-relay urls`).',
    `chatlio-relay: web inbox: ${inboxUrl(config)} (sign in with the API token).`,
  ].join('\n');
}

/** The tokens as they are now, generating none: the CLI reads what the server created, it never creates it. */
export function existingTokens(
  dataDir: string,
  fromEnv: { webhookTokens?: string[]; apiToken?: string },
): { webhook?: string[]; api?: string; webhookFile: string; apiFile: string } {
  const webhookFile = join(dataDir, WEBHOOK_TOKEN_FILE);
  const apiFile = join(dataDir, API_TOKEN_FILE);
  const keptWebhookToken = fromEnv.webhookTokens ? undefined : readExisting(webhookFile);
  return {
    webhook: fromEnv.webhookTokens ?? (keptWebhookToken ? [keptWebhookToken] : undefined),
    api: fromEnv.apiToken ?? readExisting(apiFile),
    webhookFile,
    apiFile,
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * A constant-time check of a presented token against the accepted ones: comparing sha256 digests evens out
 * the lengths, and every accepted token is compared, so the time says nothing about which one matched.
 */
export function tokenChecker(accepted: readonly string[]): (presented: string | undefined) => boolean {
  const acceptedDigests = accepted.map(digest);
  return (presented) => {
    if (!presented) return false;
    const presentedDigest = digest(presented);
    let match = false;
    for (const acceptedDigest of acceptedDigests) match = timingSafeEqual(presentedDigest, acceptedDigest) || match;
    return match;
  };
}

/** Reads `Authorization: Bearer <token>`. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}
