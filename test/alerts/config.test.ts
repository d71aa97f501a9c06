// The alerts section of the config file: defaults, switches, and the mistakes it refuses with the field named.
import { describe, expect, it } from 'vitest';
import { parseDispatchConfig } from '../../src/dispatch/config.js';

const handlers = [
  { name: 'zendesk', type: 'http', events: '*', options: { url: 'https://zendesk.test/x' } },
  { name: 'ops', type: 'slack', options: { webhookUrl: 'https://hooks.slack.test/x' } },
  { name: 'sms', type: 'twilio', events: '*', options: { accountSid: 'AC1', authToken: 't', from: '+15550001111', to: ['+15550002222'] } },
  { name: 'tickets', type: 'zendesk', events: '*', options: { subdomain: 'acme', email: 'ops@acme.test', apiToken: 't' } },
];

const parse = (alerts: unknown, list: unknown[] = handlers) => parseDispatchConfig({ handlers: list, alerts }, 'config.yaml', {});
const refusal = (alerts: unknown, list?: unknown[]) => {
  try {
    parse(alerts, list);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('the alerts section', () => {
  it('fills in the defaults: dead on, 5 failures in a row, 15 minutes overdue, rejections within an hour, silence off', () => {
    expect(parse({ notify: ['ops'] }).alerts).toEqual({ notify: ['ops'], dead: true, failures: 5, overdueMs: 900_000, silenceMs: null, rejectionsMs: 3_600_000 });
  });

  it('takes thresholds and turns conditions off with false', () => {
    expect(parse({ notify: ['ops', 'ops'], dead: false, failures: 3, overdue: '5m', silence: '24h', rejections: false }).alerts).toEqual({
      notify: ['ops'],
      dead: false,
      failures: 3,
      overdueMs: 300_000,
      silenceMs: 86_400_000,
      rejectionsMs: null,
    });
    expect(parse({ notify: ['ops'], failures: false, overdue: false, silence: false }).alerts).toMatchObject({ failures: null, overdueMs: null, silenceMs: null });
  });

  it('is absent when the file has none, and then every handler still needs its events', () => {
    expect(parseDispatchConfig({ handlers: [handlers[0]] }, 'config.yaml', {}).alerts).toBeUndefined();
    expect(refusal(undefined)).toMatch(/handlers\[1\]\.events: required \(only a handler named in alerts\.notify may go without events\)/);
  });

  it('refuses a notify handler that does not exist or cannot send alerts, an unknown key, and a bad duration, naming the field', () => {
    expect(refusal({ notify: ['nobody'] })).toMatch(/alerts\.notify\[0\]: no handler is named "nobody"/);
    expect(refusal({ notify: ['tickets'] })).toMatch(/alerts\.notify\[0\]: a zendesk handler cannot send alerts; use one of slack, email, pagerduty, teams, discord, twilio, http, command, log, module/);
    expect(parse({ notify: ['ops', 'sms'] }).alerts!.notify).toEqual(['ops', 'sms']);
    expect(refusal({ notify: [] })).toMatch(/alerts\.notify/);
    expect(refusal({ notify: ['ops'], failure: 5 })).toMatch(/alerts: .*failure/);
    expect(refusal({ notify: ['ops'], silence: '1 day' })).toMatch(/alerts\.silence/);
    expect(refusal({ notify: ['ops'], failures: 0 })).toMatch(/alerts\.failures/);
  });
});
