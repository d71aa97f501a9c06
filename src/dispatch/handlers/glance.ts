// What a chat-app card shows of an event (Teams, Discord): a headline, a few labelled facts, the first lines said, a link.
import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../../chatlio/index.js';
import type { DispatchEvent } from '../handler.js';
import { cutText } from '../../text.js';
import { eventView, render, templateSchema } from '../template.js';

/** A `title` option: one template for every type, or one per type; rendered as plain text, never as markup. */
export const titleOption = z.union([templateSchema, z.partialRecord(z.enum(EVENT_TYPES), templateSchema)]).optional();

export const GLANCE_TITLE: Record<EventType, string> = {
  'conversation-started': 'New chat from {{who}}',
  unanswered: 'Nobody has answered {{who}}',
  feedback: 'Feedback {{thumb}} from {{who}}',
  transcript: 'Chat with {{who}} ended {{thumb}}',
  'offline-message': 'Offline message from {{who}}',
};

/** A card stays a glance: the rest is one click away (the Slack archive) or in the API. */
export const GLANCE_MAX_LINES = 5;
export const GLANCE_MAX_LINE_CHARS = 300;

export type Glance = {
  title: string;
  facts: Array<{ label: string; value: string }>;
  lines: string[];
  link?: { label: string; url: string };
};

const str = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');
/** An http(s) URL as a string, else undefined: only those become links. */
export function httpUrl(value: unknown): string | undefined {
  const text = str(value);
  if (!/^https?:\/\//i.test(text)) return undefined;
  try {
    return new URL(text).href;
  } catch {
    return undefined;
  }
}

function saidLines(event: DispatchEvent, message: string): string[] {
  const payload = event.payload;
  if (event.type === 'transcript' && Array.isArray(payload.messages)) {
    return (payload.messages as unknown[])
      .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null && str((item as Record<string, unknown>).text) !== '')
      .map((item) => `${item.isVisitorMsg === true ? 'Visitor' : str(item.username) || 'Agent'}: ${str(item.text)}`);
  }
  const text = event.type === 'feedback' ? str(payload.chatFeedback) || message : message;
  return text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
}

/** The glance of an event; `title` overrides the default headline template for its type. */
export function glance(event: DispatchEvent, title: string | Partial<Record<EventType, string>> | undefined): Glance {
  const view = eventView(event);
  const template = (typeof title === 'string' ? title : title?.[event.type]) ?? GLANCE_TITLE[event.type];
  const email = str(view.visitor.email);
  const facts = [
    { label: 'Visitor', value: email && email !== view.who ? `${view.who} (${email})` : view.who },
    { label: 'Page', value: view.page },
    { label: 'Location', value: str(view.visitor.location) },
    { label: 'Agent', value: str(event.payload.agentName) },
  ].filter((fact) => fact.value !== '');
  const lines = saidLines(event, view.message);
  const shown = lines.slice(0, GLANCE_MAX_LINES).map((line) => cutText(line, GLANCE_MAX_LINE_CHARS));
  if (lines.length > GLANCE_MAX_LINES) shown.push(`… ${lines.length - GLANCE_MAX_LINES} more`);
  const archiveUrl = httpUrl(event.payload.archiveUrl);
  return {
    title: cutText(render(template, view).replace(/\s+/g, ' ').trim(), 250),
    facts,
    lines: shown,
    ...(archiveUrl ? { link: { label: 'Open in Slack', url: archiveUrl } } : {}),
  };
}
