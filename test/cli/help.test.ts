import { describe, expect, it } from 'vitest';
import { oneLineError, runCli } from '../helpers/cli.js';

const COMMANDS = ['serve', 'urls', 'send', 'backup', 'restore', 'check-db', 'replay', 'export', 'copy-to-postgres'];

describe('chatlio-relay --help', () => {
  it('lists every command and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const name of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  for (const name of COMMANDS) {
    it(`prints the usage of ${name} for "${name} --help" and exits 0 without doing anything`, async () => {
      const result = await runCli([name, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: chatlio-relay ${name}\\b`));
      expect(result.stderr).toBe('');
    });
  }

  it('says "help <command>" the same as "<command> --help"', async () => {
    const viaHelp = await runCli(['help', 'backup']);
    const viaFlag = await runCli(['backup', '--help']);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
  });

  it('answers an unknown command with one line and exit code 2', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toBe('chatlio-relay: unknown command "frobnicate"; see chatlio-relay --help');
  });

  it('answers an unknown option with one line naming it and exit code 2', async () => {
    const result = await runCli(['urls', '--bogus']);
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toBe("chatlio-relay urls: Unknown option '--bogus'; see --help");
  });

  it('refuses an extra argument to serve with one line and exit code 2, without starting', async () => {
    const result = await runCli(['serve', 'now']);
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toBe('chatlio-relay serve: unexpected argument "now"; see --help');
  });

  it('reports a bad environment variable on one line with exit code 2', async () => {
    const result = await runCli(['urls'], { PORT: 'eighty', DATA_DIR: '/nonexistent-chatlio-relay' });
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toMatch(/^chatlio-relay urls: invalid environment: PORT: /);
  });
});
