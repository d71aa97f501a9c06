// The `teams` handler: an Adaptive Card per event to a Teams Workflows (or legacy incoming) webhook; visitor text stays plain.
import { z } from 'zod';
import { defineHandlerType, type HandlerResult } from '../handler.js';
import { asResult, send } from '../outbound.js';
import { cutText } from '../../text.js';
import { glance, titleOption, type Glance } from './glance.js';
import { alertGlance } from '../../alerts/notice.js';

export const teamsOptions = z.strictObject({
  /** The URL of a "When a Teams webhook request is received" workflow, or of a legacy incoming-webhook connector. */
  webhookUrl: z.url({ protocol: /^https?$/ }),
  title: titleOption,
});

type TextRun = { type: 'TextRun'; text: string; weight?: 'Bolder'; size?: 'Medium'; italic?: boolean; isSubtle?: boolean };
const paragraph = (...inlines: TextRun[]) => ({ type: 'RichTextBlock', inlines });
const run = (text: string, style: Omit<TextRun, 'type' | 'text'> = {}): TextRun => ({ type: 'TextRun', text, ...style });

/**
 * Every piece of text is a TextRun inside a RichTextBlock: Adaptive Cards render TextRun text literally (no markdown,
 * no HTML, no <at> mention without a matching msteams entity, and we send none), so visitor text cannot format or ping.
 */
export function adaptiveCard(card: Glance): Record<string, unknown> {
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    // 1.4 is what both Workflows and the legacy connectors render.
    version: '1.4',
    body: [
      paragraph(run(card.title, { weight: 'Bolder', size: 'Medium' })),
      ...card.facts.map((fact) => paragraph(run(`${fact.label}: `, { weight: 'Bolder' }), run(fact.value))),
      ...card.lines.map((line) => paragraph(run(line, { italic: true }))),
    ],
    ...(card.link ? { actions: [{ type: 'Action.OpenUrl', title: card.link.label, url: card.link.url }] } : {}),
  };
}

/**
 * Legacy connectors answer 200 even when Teams refused the message, with the real status in the text
 * ("Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 …"):
 * that status is used, so a rate limit retries and an oversized card is dead.
 */
export function teamsOutcome(result: HandlerResult & { body?: string }): HandlerResult {
  const base = asResult(result);
  const text = result.body ?? '';
  if (!result.ok || !/^Webhook message delivery failed/i.test(text)) return base;
  const status = /HTTP error (\d{3})/.exec(text)?.[1];
  return { ...base, ok: false, statusCode: status ? Number(status) : undefined, error: `Teams refused the message: ${cutText(text, 200)}` };
}

export const teamsHandler = defineHandlerType({
  options: teamsOptions,
  create: (options) => ({
    async deliver(event, ctx) {
      const body = {
        type: 'message',
        attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: adaptiveCard(glance(event, options.title)) }],
      };
      return teamsOutcome(
        await send(options.webhookUrl, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctx.signal }),
      );
    },
    async deliverAlert(notice, ctx) {
      const body = {
        type: 'message',
        attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: adaptiveCard(alertGlance(notice)) }],
      };
      return teamsOutcome(
        await send(options.webhookUrl, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctx.signal }),
      );
    },
  }),
});
