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

  it('reads TRUST_PROXY as off by default, true, a hop count, or a list of addresses, CIDRs and range names', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,::1,fd00::/8, loopback' }).trustProxy).toEqual(['10.0.0.1', '192.168.0.0/16', '::1', 'fd00::/8', 'loopback']);
  });

  it('refuses a TRUST_PROXY that is not an address, a CIDR, a hop count or a boolean, naming the variable', () => {
    for (const bad of ['yes-please', '10.0.0.300', '10.0.0.0/33', '::1/129', '10.0.0.1/8/1', 'example.com', ',']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY: must be true, false, a hop count/);
    }
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
