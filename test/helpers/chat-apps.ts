// Teams and Discord as local servers check what they are sent: the documented message formats, written independently
// of src/, as the problems with a body ([] when the service would take it).
import type { SinkAnswer, SinkRequest } from './sink.js';

/** Teams' size limit for a message posted through a webhook (about 28 KB). */
const TEAMS_MAX_BYTES = 28 * 1024;
const TEAMS_ELEMENTS = new Set(['TextBlock', 'RichTextBlock', 'FactSet', 'ColumnSet', 'Container', 'Image', 'ActionSet']);

/**
 * A Teams webhook message (Workflows "When a Teams webhook request is received", or a legacy incoming webhook): type
 * message, Adaptive Card attachments (version 1.0 to 1.5, which Teams renders), each body element of a known type,
 * RichTextBlock inlines as TextRuns with text, Action.OpenUrl with an http(s) url.
 */
export function teamsProblems(raw: Buffer): string[] {
  const problems: string[] = [];
  if (raw.length > TEAMS_MAX_BYTES) problems.push('message over 28 KB');
  const body = JSON.parse(raw.toString()) as Record<string, unknown>;
  if (body.type !== 'message') problems.push('type must be "message"');
  const attachments = body.attachments;
  if (!Array.isArray(attachments) || attachments.length === 0) return [...problems, 'attachments is required'];
  for (const attachment of attachments as Array<Record<string, unknown>>) {
    if (attachment.contentType !== 'application/vnd.microsoft.card.adaptive') problems.push('contentType must be application/vnd.microsoft.card.adaptive');
    const card = attachment.content as Record<string, unknown> | undefined;
    if (!card || card.type !== 'AdaptiveCard') {
      problems.push('content must be an AdaptiveCard');
      continue;
    }
    if (typeof card.version !== 'string' || !/^1\.[0-5]$/.test(card.version)) problems.push('version must be 1.0 to 1.5');
    if (!Array.isArray(card.body) || card.body.length === 0) problems.push('body is required');
    for (const element of (card.body as Array<Record<string, unknown>> | undefined) ?? []) {
      if (!TEAMS_ELEMENTS.has(element.type as string)) problems.push(`unknown element ${String(element.type)}`);
      if (element.type !== 'RichTextBlock') continue;
      const inlines = element.inlines as Array<Record<string, unknown>> | undefined;
      if (!Array.isArray(inlines) || inlines.length === 0) problems.push('RichTextBlock needs inlines');
      for (const inline of inlines ?? []) {
        if (inline.type !== 'TextRun' || typeof inline.text !== 'string') problems.push('inlines must be TextRuns with text');
      }
    }
    for (const action of (card.actions as Array<Record<string, unknown>> | undefined) ?? []) {
      if (action.type !== 'Action.OpenUrl' || typeof action.url !== 'string' || !/^https?:\/\//.test(action.url)) problems.push('Action.OpenUrl needs an http(s) url');
      if (typeof action.title !== 'string' || action.title === '') problems.push('an action needs a title');
    }
  }
  return problems;
}

/** Discord's documented embed limits; the problems with a message, or []. */
export function discordProblems(raw: Buffer): string[] {
  const problems: string[] = [];
  const body = JSON.parse(raw.toString()) as Record<string, unknown>;
  const embeds = (body.embeds as Array<Record<string, unknown>> | undefined) ?? [];
  if (!body.content && embeds.length === 0) problems.push('content or embeds is required');
  if (typeof body.content === 'string' && body.content.length > 2000) problems.push('content is over 2000 characters');
  if (embeds.length > 10) problems.push('more than 10 embeds');
  let total = 0;
  for (const embed of embeds) {
    const title = (embed.title as string | undefined) ?? '';
    const description = (embed.description as string | undefined) ?? '';
    const fields = (embed.fields as Array<{ name: string; value: string }> | undefined) ?? [];
    if (title.length > 256) problems.push('title over 256');
    if (description.length > 4096) problems.push('description over 4096');
    if (fields.length > 25) problems.push('more than 25 fields');
    for (const field of fields) {
      if (!field.name || field.name.length > 256) problems.push('field name empty or over 256');
      if (!field.value || field.value.length > 1024) problems.push('field value empty or over 1024');
    }
    total += title.length + description.length + fields.reduce((sum, field) => sum + field.name.length + field.value.length, 0);
  }
  if (total > 6000) problems.push('embeds over 6000 characters in all');
  return problems;
}

/** Answers as Teams does (200 "1", or 400 with the problems) or as Discord does (204, or 400). */
export const teamsAnswer = (request: SinkRequest): SinkAnswer => {
  const problems = teamsProblems(request.body);
  return problems.length === 0 ? { status: 200, body: '1' } : { status: 400, body: problems.join('; ') };
};
export const discordAnswer = (request: SinkRequest): SinkAnswer => {
  const problems = discordProblems(request.body);
  return problems.length === 0 ? { status: 204, body: '' } : { status: 400, body: JSON.stringify({ message: 'Invalid Form Body', problems }) };
};
