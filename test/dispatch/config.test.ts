import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadDispatchConfig, parseDuration, DispatchConfigError } from '../../src/dispatch/config.js';
import { tempDir, WEBHOOK_TOKEN, API_TOKEN } from '../helpers/app.js';
import { CLI } from '../helpers/server.js';
import { writeConfig } from '../helpers/dispatch.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const exampleFiles = readdirSync(EXAMPLES).filter((file) => file.endsWith('.yaml'));

/** A plausible value for each ${VAR} an example uses. */
function sampleEnv(text: string): Record<string, string> {
  const names = [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1]!);
  return Object.fromEntries(
    names.map((name) => [
      name,
      name.endsWith('_URL') ? 'https://hooks.slack.test/services/T0/B0/x' : name.includes('SECRET') ? `whsec_${Buffer.from('k'.repeat(32)).toString('base64')}` : `${name.toLowerCase()}-value`,
    ]),
  );
}

function refused(config: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadDispatchConfig(writeConfig(config), env);
  } catch (error) {
    expect(error).toBeInstanceOf(DispatchConfigError);
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('the examples', () => {
  it('has an example for each use case, and the docker-compose one', () => {
    expect(exampleFiles.sort()).toEqual(
      ['alerts-ops.yaml', 'compose-config.yaml', 'email-rated-down.yaml', 'escalation.yaml', 'feedback-sms.yaml', 'forward-signed.yaml', 'pagerduty-unanswered.yaml', 'siren.yaml', 'sms-on-start.yaml', 'urgent-slack.yaml', 'zendesk.yaml'],
    );
  });

  it.each(exampleFiles)('loads examples/%s through the real config loader', (file) => {
    const path = join(EXAMPLES, file);
    const env = sampleEnv(readFileSync(path, 'utf8'));
    const config = loadDispatchConfig(path, env);
    expect(config.handlers.length).toBeGreaterThan(0);
    const text = JSON.stringify(config);
    for (const value of Object.values(env)) expect(text).toContain(value);
    expect(text).not.toContain('${');
  });
});

describe('config loading', () => {
  it('reads durations in ms, s, m, h and d', () => {
    expect([parseDuration('500ms'), parseDuration('5s'), parseDuration('1.5m'), parseDuration('2h'), parseDuration('1d')]).toEqual([
      500, 5000, 90_000, 7_200_000, 86_400_000,
    ]);
    expect(parseDuration('5')).toBeUndefined();
    expect(parseDuration('5 minutes')).toBeUndefined();
  });

  it('applies defaults: the Standard Webhooks schedule, concurrency 4, timeout 15 s', () => {
    const config = loadDispatchConfig(writeConfig({ handlers: [{ name: 'audit', type: 'log', events: '*' }] }), {});
    expect(config.retry.scheduleMs).toEqual([5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000]);
    expect(config.handlers[0]).toMatchObject({ events: '*', concurrency: 4, timeoutMs: 15_000, delayMs: 0, unlessFollowedBy: [] });
  });

  it('reads a JSON config file too', () => {
    const file = join(tempDir(), 'config.json');
    writeFileSync(file, JSON.stringify({ retry: { schedule: ['1s'] }, handlers: [{ name: 'audit', type: 'log', events: ['feedback'] }] }));
    expect(loadDispatchConfig(file, {})).toMatchObject({ retry: { scheduleMs: [1000] }, handlers: [{ name: 'audit', events: ['feedback'] }] });
  });

  it('refuses an unknown handler type, naming the field and the types there are', () => {
    const message = refused({ handlers: [{ name: 'x', type: 'pager', events: '*' }] });
    expect(message).toContain('handlers[0].type');
    expect(message).toContain('zendesk');
  });

  it('refuses a handler missing a required option, naming the option', () => {
    const message = refused({ handlers: [{ name: 'zd', type: 'zendesk', events: ['transcript'], options: { subdomain: 'acme', email: 'ops@acme.test' } }] });
    expect(message).toMatch(/handlers\[0\]\.options\.apiToken: .*expected string/);
  });

  it('refuses a bad duration, naming the field and the reason', () => {
    const message = refused({ handlers: [{ name: 'sms', type: 'log', events: ['unanswered'], delay: '5 minutes' }] });
    expect(message).toContain('handlers[0].delay: "5 minutes" is not a duration');
    expect(refused({ retry: { schedule: ['5s', 'soon'] }, handlers: [] })).toContain('retry.schedule[1]: "soon" is not a duration');
  });

  it('refuses a ${VAR} that is not set, naming the field and the variable', () => {
    const message = refused({ handlers: [{ name: 'zd', type: 'zendesk', events: ['transcript'], options: { subdomain: 'acme', email: 'ops@acme.test', apiToken: '${ZENDESK_TOKEN}' } }] });
    expect(message).toContain('handlers[0].options.apiToken: environment variable ZENDESK_TOKEN is not set');
  });

  it('refuses unknown keys, duplicate names, unknown event types, bad patterns and bad templates', () => {
    expect(refused({ handlers: [], hanlders: [] })).toContain('hanlders');
    expect(refused({ handlers: [{ name: 'a', type: 'log', events: '*' }, { name: 'a', type: 'log', events: '*' }] })).toContain('handlers[1].name: "a" is used by another handler');
    expect(refused({ handlers: [{ name: 'a', type: 'log', events: ['chat-ended'] }] })).toContain('handlers[0].events');
    expect(refused({ handlers: [{ name: 'a', type: 'log', events: '*', when: { 'visitor.email': { matches: '([' } } }] })).toContain(
      'handlers[0].when.visitor.email.matches: not a valid regular expression',
    );
    expect(refused({ handlers: [{ name: 'a', type: 'slack', events: '*', options: { webhookUrl: 'https://x.test', text: 'Hi {{#who}}' } }] })).toContain(
      'handlers[0].options.text',
    );
    expect(refused({ handlers: [{ name: 'a', type: 'twilio', events: '*', options: { accountSid: 'AC', authToken: 't', to: ['+15550002222'] } }] })).toContain(
      'handlers[0].options.from: give from or messagingServiceSid',
    );
  });

  it('stops the real server process with exit code 2 and the field named when the config file is bad', async () => {
    const configFile = join(tempDir(), 'config.yaml');
    writeFileSync(configFile, stringify({ handlers: [{ name: 'siren', type: 'command', events: ['conversation-started'], timeout: 'ten seconds', options: { command: ['/bin/true'] } }] }));
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: { PATH: process.env.PATH, WEBHOOK_TOKEN, API_TOKEN, DATA_DIR: tempDir(), CONFIG_FILE: configFile, PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(output).toContain('handlers[0].timeout: "ten seconds" is not a duration');
  });
});
