// The `pagerduty` handler: Events API v2 alerts keyed per conversation, so a later event can resolve the alert it opened.
import { z } from 'zod';
import { EVENT_TYPES } from '../../chatlio/index.js';
import { defineHandlerType, type HandlerResult } from '../handler.js';
import { asResult, send } from '../outbound.js';
import { cutText } from '../../text.js';
import { DEFAULT_TEXT, eventView, render, templateSchema } from '../template.js';
import { httpUrl } from './glance.js';
import { alertFacts } from '../../alerts/notice.js';

export const pagerdutyOptions = z.strictObject({
  /** The Integration Key of an Events API v2 integration on the service to page. */
  routingKey: z.string().min(1),
  /** What this handler sends: `trigger` opens (or adds to) the conversation's alert, `resolve` closes it. */
  action: z.enum(['trigger', 'acknowledge', 'resolve']).default('trigger'),
  /** The alert's title (trigger only): one template or one per type; cut to PagerDuty's 1024 characters. */
  summary: z.union([templateSchema, z.partialRecord(z.enum(EVENT_TYPES), templateSchema)]).optional(),
  severity: z.enum(['critical', 'error', 'warning', 'info']).default('error'),
  /** PagerDuty's "affected system" (trigger only). */
  source: templateSchema.default('chatlio-relay'),
  /** PagerDuty's logical grouping of alerts (trigger only). */
  group: z.string().min(1).optional(),
  baseUrl: z.url({ protocol: /^https?$/ }).default('https://events.pagerduty.com'),
});

// PagerDuty's documented limits.
const DEDUP_KEY_MAX = 255;
const SUMMARY_MAX = 1024;

/** One alert per conversation: every trigger, acknowledge and resolve about the same chat names the same key. */
export function dedupKeyOf(conversationUUID: string): string {
  return cutText(`chatlio-${conversationUUID}`, DEDUP_KEY_MAX, '');
}

export const pagerdutyHandler = defineHandlerType({
  options: pagerdutyOptions,
  create: (options) => {
    const url = `${options.baseUrl.replace(/\/+$/, '')}/v2/enqueue`;
    return {
      async deliver(event, ctx): Promise<HandlerResult> {
        const conversation = event.conversationUUID?.trim();
        if (!conversation && options.action !== 'trigger') {
          // Offline messages have no conversation, so there is no alert this event could be about.
          return { ok: false, permanent: true, error: `a ${event.type} event has no conversationUUID: nothing to ${options.action}` };
        }
        // A trigger without a conversation still gets a key of its own, so a retry does not open a second alert.
        const dedupKey = conversation ? dedupKeyOf(conversation) : `chatlio-event-${event.id}`;
        const body: Record<string, unknown> = { routing_key: options.routingKey, event_action: options.action, dedup_key: dedupKey };
        if (options.action === 'trigger') {
          const view = eventView(event);
          const custom = typeof options.summary === 'string' ? options.summary : options.summary?.[event.type];
          const archiveUrl = httpUrl(event.payload.archiveUrl);
          body.payload = {
            summary: cutText(render(custom ?? DEFAULT_TEXT[event.type], view).replace(/\s+/g, ' ').trim() || `Chatlio ${event.type}`, SUMMARY_MAX),
            source: render(options.source, view).trim() || 'chatlio-relay',
            severity: options.severity,
            timestamp: event.receivedAt,
            class: event.type,
            ...(options.group ? { group: options.group } : {}),
            custom_details: {
              visitor: view.who,
              ...(view.visitor.email ? { email: view.visitor.email } : {}),
              ...(view.page ? { page: view.page } : {}),
              ...(typeof view.visitor.location === 'string' && view.visitor.location ? { location: view.visitor.location } : {}),
              ...(view.message ? { message: view.message } : {}),
              conversationUUID: conversation ?? null,
              eventId: event.id,
            },
          };
          body.client = 'chatlio-relay';
          if (archiveUrl) body.links = [{ href: archiveUrl, text: 'Open the chat in Slack' }];
        }
        const result = await send(url, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctx.signal });
        // 202 accepted, 400 refused for good, 429 and 5xx retried: the shared HTTP judgement is PagerDuty's documented one.
        return { ...asResult(result), ...(result.ok ? { externalId: dedupKey } : {}) };
      },
      async deliverAlert(notice, ctx): Promise<HandlerResult> {
        // One incident per alert episode: the trigger opens it, the resolution closes the same dedup key.
        const dedupKey = cutText(notice.key, DEDUP_KEY_MAX, '');
        const { alert } = notice;
        const body: Record<string, unknown> = { routing_key: options.routingKey, event_action: notice.action, dedup_key: dedupKey };
        if (notice.action === 'trigger') {
          body.payload = {
            summary: cutText(alert.detail.summary, SUMMARY_MAX),
            source: 'chatlio-relay',
            severity: options.severity,
            timestamp: new Date(alert.openedAt).toISOString(),
            class: `alert:${alert.kind}`,
            component: alert.subject || undefined,
            ...(options.group ? { group: options.group } : {}),
            custom_details: Object.fromEntries(alertFacts(notice).map((fact) => [fact.label, fact.value])),
          };
          body.client = 'chatlio-relay';
          if (alert.detail.link) body.links = [{ href: alert.detail.link, text: 'Details' }];
        }
        const result = await send(url, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctx.signal });
        return { ...asResult(result), ...(result.ok ? { externalId: dedupKey } : {}) };
      },
    };
  },
});
