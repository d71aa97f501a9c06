// The alerts section in words, for check-config: who is told, and which conditions are on with which thresholds.
import type { DispatchConfig } from '../dispatch/config.js';

const duration = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

export function describeAlertRules(config: DispatchConfig): string {
  const rules = config.alerts;
  if (!rules) return 'alerts: none (add an alerts section to be told when deliveries fail or webhooks stop)';
  const watched = config.handlers.filter((handler) => !rules.notify.includes(handler.name)).map((handler) => handler.name);
  const line = (name: string, text: string | null) => `  ${name.padEnd(11)} ${text ?? 'off'}`;
  return [
    `alerts → ${rules.notify.join(', ')} (watching ${watched.length > 0 ? watched.join(', ') : 'no handler'}; notify handlers are never watched)`,
    line('dead', rules.dead ? 'a handler has dead deliveries' : null),
    line('failures', rules.failures === null ? null : `a handler failed ${rules.failures} times in a row`),
    line('overdue', rules.overdueMs === null ? null : `a handler's oldest waiting delivery is ${duration(rules.overdueMs)} past due`),
    line('silence', rules.silenceMs === null ? null : `no webhook for ${duration(rules.silenceMs)}`),
    line('rejections', rules.rejectionsMs === null ? null : `a payload was refused (422) in the last ${duration(rules.rejectionsMs)}`),
  ].join('\n');
}
