// The `zendesk` handler: a ticket per transcript or offline message; the ticket id is kept on the delivery.
import { z } from 'zod';
import { defineHandlerType, type DispatchEvent } from '../handler.js';
import { asResult, basicAuth, send } from '../outbound.js';
import { DEFAULT_TEXT, eventView, render, templateSchema, type TemplateView } from '../template.js';
import { cutText } from '../../text.js';
import { visitorEmail } from '../visitor-email.js';

const template = templateSchema;

export const zendeskOptions = z.strictObject({
  subdomain: z.string().regex(/^[a-z0-9][a-z0-9-]*$/i, 'just the name in https://{subdomain}.zendesk.com'),
  /** The agent the API token belongs to. */
  email: z.email(),
  apiToken: z.string().min(1),
  /** Defaults to https://{subdomain}.zendesk.com. */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Requester when the event carries no visitor email; without it the requester is named after the visitor, with no email. */
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

const SUBJECT_MAX_CHARS = 250;

type Requester = { email: string; name: string } | { name: string };

/**
 * The visitor's email, else the configured fallback, else a requester with a name only: Zendesk then creates an end
 * user without an email, named after the visitor (their name, else Chatlio's handle such as "costa-mesa-california-us-133").
 */
function requesterFor(event: DispatchEvent, view: TemplateView, fallback: string | undefined): Requester {
  const address = visitorEmail(event) ?? fallback;
  return address ? { email: address, name: view.who } : { name: view.who };
}

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
        const subjectTemplate =
          options.subject ?? (event.type === 'transcript' || event.type === 'offline-message' ? DEFAULT_SUBJECT[event.type] : DEFAULT_SUBJECT.other);
        const ticket = {
          subject: cutText(render(subjectTemplate, view), SUBJECT_MAX_CHARS),
          comment: { ...commentFor(view), public: options.public },
          requester: requesterFor(event, view, options.fallbackRequesterEmail),
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
