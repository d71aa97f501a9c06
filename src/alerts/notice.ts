// An alert as a notify handler receives it, and the plain-text wording every destination builds on.
import type { Alert, AlertAction } from '../store/storage.js';
import type { Glance } from '../dispatch/handlers/glance.js';

export type AlertNotice = {
  alert: Alert;
  action: AlertAction;
  /** The same in every message about the alert and unique across databases, so a destination can thread or close it. */
  key: string;
};

/** One line, for a subject, a PagerDuty summary or a chat message's first line. */
export function alertTitle(notice: AlertNotice): string {
  const { summary } = notice.alert.detail;
  return notice.action === 'resolve' ? `Resolved: ${summary}` : `Alert: ${summary}`;
}

/** The labelled facts under the title: what failed, how, what to do, where to look; empty ones left out. */
export function alertFacts(notice: AlertNotice): Array<{ label: string; value: string }> {
  const { alert } = notice;
  const { detail } = alert;
  const facts: Array<{ label: string; value: string }> = [];
  if (detail.handler) facts.push({ label: 'Handler', value: detail.handler });
  if (detail.lastError) facts.push({ label: 'Last error', value: detail.lastError });
  if (typeof detail.lastStatusCode === 'number') facts.push({ label: 'Status code', value: String(detail.lastStatusCode) });
  facts.push({ label: 'Since', value: new Date(alert.openedAt).toISOString() });
  if (notice.action === 'resolve' && alert.resolvedAt !== null) facts.push({ label: 'Resolved', value: new Date(alert.resolvedAt).toISOString() });
  if (notice.action === 'trigger') facts.push({ label: 'What to do', value: detail.advice });
  if (detail.link) facts.push({ label: 'Details', value: detail.link });
  return facts;
}

/** The alert as the card-shaped handlers (Teams, Discord) lay it out; the link is a button, not a fact. */
export function alertGlance(notice: AlertNotice): Glance {
  const link = notice.alert.detail.link;
  return {
    title: alertTitle(notice),
    facts: alertFacts(notice).filter((fact) => fact.label !== 'Details'),
    lines: [],
    ...(link ? { link: { label: 'Open the details', url: link } } : {}),
  };
}

/** Title and facts as plain text lines (email bodies, logs, SMS-like destinations). */
export function alertText(notice: AlertNotice): string {
  return [alertTitle(notice), '', ...alertFacts(notice).map((fact) => `${fact.label}: ${fact.value}`)].join('\n');
}

/** The alert as JSON (GET /api/alerts' items, the http handler's body beside its action): ISO times, open or resolved. */
export function alertJson(alert: Alert) {
  return {
    id: alert.id,
    kind: alert.kind,
    subject: alert.subject,
    status: alert.resolvedAt === null ? ('open' as const) : ('resolved' as const),
    openedAt: new Date(alert.openedAt).toISOString(),
    resolvedAt: alert.resolvedAt === null ? null : new Date(alert.resolvedAt).toISOString(),
    ...alert.detail,
  };
}

/** What the http and command handlers send: the alert's JSON and the action this message announces. */
export function alertMessage(notice: AlertNotice) {
  return { action: notice.action, ...alertJson(notice.alert) };
}
