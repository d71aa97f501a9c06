import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../src/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: './data',
      logLevel: 'info',
      bodyLimit: 5 * 1024 * 1024,
      dbSynchronous: 'full',
      webhookTokens: undefined,
      apiToken: undefined,
    });
  });

  it('splits WEBHOOK_TOKEN on commas so a token can be rotated', () => {
    const config = loadConfig({ WEBHOOK_TOKEN: 'old-token-0123456789abcdefghij, new-token-0123456789abcdefghij' });
    expect(config.webhookTokens).toEqual(['old-token-0123456789abcdefghij', 'new-token-0123456789abcdefghij']);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ WEBHOOK_TOKEN: 'short' }, 'WEBHOOK_TOKEN'],
    [{ WEBHOOK_TOKEN: 'long-enough-token-0123456789,short' }, 'WEBHOOK_TOKEN'],
    [{ API_TOKEN: 'short' }, 'API_TOKEN'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ BODY_LIMIT: '-1' }, 'BODY_LIMIT'],
    [{ DB_SYNCHRONOUS: 'off' }, 'DB_SYNCHRONOUS'],
    [{ PUBLIC_URL: 'ftp://example.test' }, 'PUBLIC_URL'],
  ])('refuses %o naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^invalid environment:\\n\\s+${name}`));
  });
});
