// Message text from mustache templates over one documented view of the event; escaping is per destination.
import Mustache from 'mustache';
import { z } from 'zod';
import type { EventType } from '../chatlio/index.js';
import type { DispatchEvent } from './handler.js';

/** Slack mrkdwn treats &, < and > as control characters; everything else is literal. */
export function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const plain = (text: string) => text;

/** Renders with {{name}} escaped for the destination ('plain' leaves text as is: SMS, subjects, commands). */
export function render(template: string, view: TemplateView, escape: 'plain' | 'slack' | 'html' = 'plain'): string {
  const escapeFn = escape === 'slack' ? escapeSlack : escape === 'html' ? Mustache.escape : plain;
  return Mustache.render(template, view, {}, { escape: escapeFn });
}

/** Refuses a template mustache cannot parse, so a typo stops the process at start, not at the first event. */
export function checkTemplate(template: string): string | undefined {
  try {
    Mustache.parse(template);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** A template option: refused at start when mustache cannot parse it. */
export const templateSchema = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    const problem = checkTemplate(text);
    if (problem) ctx.addIssue({ code: 'custom', message: `not a valid template: ${problem}` });
  });

export type TemplateView = Record<string, unknown> & {
  id: string;
  type: EventType;
  receivedAt: string;
  /** The visitor's name, else email, else Chatlio's handle for them ("costa-mesa-california-us-133"). */
  who: string;
  /** The page the visitor was on, if known. */
  page: string;
  /** The visitor's message (offline message, conversation started, unanswered, feedback) or the last visitor line of a transcript. */
  message: string;
  /** 👍 or 👎 when the visitor rated the chat, else "". */
  thumb: string;
  visitor: Record<string, unknown>;
  payload: Record<string, unknown>;
};

const str = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');
const firstOf = (...values: unknown[]): string => values.map(str).find((value) => value !== '') ?? '';

function lastVisitorLine(payload: Record<string, unknown>): string {
  const messages = Array.isArray(payload.messages) ? (payload.messages as Array<Record<string, unknown>>) : [];
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message && message.isVisitorMsg === true && str(message.text)) return str(message.text);
  }
  return '';
}

/** The payload's `visitor` object (Chatlio's visitor fields), or an empty one. */
export function payloadVisitor(payload: DispatchEvent['payload']): Record<string, unknown> {
  return (payload.visitor && typeof payload.visitor === 'object' ? payload.visitor : {}) as Record<string, unknown>;
}

/** The payload's own fields at the top ({{agentName}}, {{archiveUrl}}, {{chatFeedback}}), plus a few derived ones. */
export function eventView(event: DispatchEvent): TemplateView {
  const payload = event.payload;
  const visitor = payloadVisitor(payload);
  const rating = event.rating;
  return {
    ...payload,
    payload,
    id: event.id,
    type: event.type,
    receivedAt: event.receivedAt,
    conversationUUID: event.conversationUUID ?? '',
    visitor: { ...visitor, name: firstOf(event.visitor.name, visitor.name), email: firstOf(event.visitor.email, visitor.email) },
    who: firstOf(event.visitor.name, event.visitor.email, visitor.handle, 'a visitor'),
    page: firstOf(visitor.currentPage, (payload.visitorTraits as Record<string, unknown> | undefined)?.current_page),
    message: firstOf(payload.message, lastVisitorLine(payload)),
    thumb: rating === 'up' ? '👍' : rating === 'down' ? '👎' : '',
  };
}

/** Readable at a glance; every one can be overridden per handler and per event type. */
export const DEFAULT_TEXT: Record<EventType, string> = {
  'conversation-started': 'New chat from {{who}}{{#page}} on {{page}}{{/page}}: {{message}}',
  unanswered: 'Nobody has answered {{who}}{{#page}} on {{page}}{{/page}} yet: {{message}}',
  feedback: 'Feedback {{thumb}} from {{who}}: {{chatFeedback}}{{^chatFeedback}}{{message}}{{/chatFeedback}}',
  transcript: 'Chat with {{who}} ended{{#agentName}} (answered by {{agentName}}){{/agentName}} {{thumb}}',
  'offline-message': 'Offline message from {{who}}{{#visitor.email}} <{{visitor.email}}>{{/visitor.email}}: {{message}}',
};
