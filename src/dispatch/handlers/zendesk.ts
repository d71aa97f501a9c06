// The `zendesk` handler: a ticket per transcript or offline message; the ticket id is kept on the delivery.
import { z } from 'zod';
import { defineHandlerType } from '../handler.js';
import { asResult, basicAuth, send } from '../outbound.js';
import { DEFAULT_TEXT, eventView, render, templateSchema, type TemplateView } from '../template.js';

const template = templateSchema;

export const zendeskOptions = z.strictObject({
  subdomain: z.string().regex(/^[a-z0-9][a-z0-9-]*$/i, 'just the name in https://{subdomain}.zendesk.com'),
  /** The agent the API token belongs to. */
  email: z.email(),
  apiToken: z.string().min(1),
  /** Defaults to https://{subdomain}.zendesk.com. */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Requester when the event carries no usable email (neither visitorEmail nor replyToEmail). */
  fallbackRequesterEmail: z.email().optional(),
  subject: template.optional(),
  tags: z.array(z.string().min(1)).optional(),
  /** Whether the first comment is visible to the requester. */
  public: z.boolean().default(false),
});

const DEFAULT_SUBJECT = {
  transcript: 'Chat with {{who}}',
  'offline-message': '{{#subject}}{{subject}}{{/subject}}{{^subject}}Offline message from {{who}}{{/subject}}',
  other: 'Chatlio {{type}} from {{who}}',
};

const email = (value: unknown) => (typeof value === 'string' && /^[^\s@]+@[^\s@]+$/.test(value.trim()) ? value.trim() : undefined);

type Comment = { html_body: string } | { body: string };

function commentFor(view: TemplateView): Comment {
  if (view.type === 'transcript') {
    const html = typeof view.htmlBody === 'string' && view.htmlBody ? view.htmlBody : undefined;
    if (html) return { html_body: html };
    return { body: typeof view.textBody === 'string' && view.textBody ? view.textBody : render(DEFAULT_TEXT.transcript, view) };
  }
  if (view.type === 'offline-message') return { body: view.message || render(DEFAULT_TEXT['offline-message'], view) };
  return { body: render(DEFAULT_TEXT[view.type], view) };
}

export const zendeskHandler = defineHandlerType({
  options: zendeskOptions,
  create: (options) => {
    const baseUrl = (options.baseUrl ?? `https://${options.subdomain}.zendesk.com`).replace(/\/+$/, '');
    const authorization = basicAuth(`${options.email}/token`, options.apiToken);
    return {
      async deliver(event, ctx) {
        const view = eventView(event);
        const payload = event.payload;
        const requesterEmail =
          event.type === 'transcript'
            ? (email(payload.visitorEmail) ?? email(payload.replyToEmail) ?? options.fallbackRequesterEmail)
            : (email(payload.email) ?? email(view.visitor.email) ?? options.fallbackRequesterEmail);
        const subjectTemplate =
          options.subject ?? (event.type === 'transcript' || event.type === 'offline-message' ? DEFAULT_SUBJECT[event.type] : DEFAULT_SUBJECT.other);
        const ticket = {
          subject: render(subjectTemplate, view).slice(0, 250),
          comment: { ...commentFor(view), public: options.public },
          ...(requesterEmail ? { requester: { email: requesterEmail, name: view.who } } : {}),
          ...(options.tags ? { tags: options.tags } : {}),
        };
        const result = await send(`${baseUrl}/api/v2/tickets.json`, {
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ ticket }),
          signal: ctx.signal,
        });
        if (!result.ok) return asResult(result);
        let ticketId: unknown;
        try {
          ticketId = (JSON.parse(result.body ?? '') as { ticket?: { id?: unknown } }).ticket?.id;
        } catch {
          ticketId = undefined;
        }
        return { ...asResult(result), externalId: ticketId === undefined ? undefined : String(ticketId) };
      },
    };
  },
});
