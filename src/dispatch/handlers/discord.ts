// The `discord` handler: one embed per event through a channel webhook; visitor text can neither format nor mention.
import { z } from 'zod';
import type { EventType } from '../../chatlio/index.js';
import { defineHandlerType } from '../handler.js';
import { asResult, send } from '../outbound.js';
import { cutText } from '../../text.js';
import { glance, titleOption } from './glance.js';
import { alertGlance } from '../../alerts/notice.js';

export const discordOptions = z.strictObject({
  /** The channel webhook URL Discord gives you (https://discord.com/api/webhooks/{id}/{token}). */
  webhookUrl: z.url({ protocol: /^https?$/ }),
  /** Shown as the sender instead of the webhook's own name. */
  username: z.string().min(1).max(80).optional(),
  title: titleOption,
});

/** Embed colours by type, so a channel reads at a glance: red needs someone, green is done. */
const COLOUR: Record<EventType, number> = {
  'conversation-started': 0x3b82f6,
  unanswered: 0xdc2626,
  feedback: 0xf59e0b,
  transcript: 0x16a34a,
  'offline-message': 0x8b5cf6,
};

// Discord's documented embed limits.
const TITLE_MAX = 256;
const FIELD_VALUE_MAX = 1024;

/**
 * Makes text literal in Discord markdown: a backslash before the characters that format or link (* _ ~ ` | [ ] <, the
 * last also opening <@user>, <#channel> and <t:…> tags), before line-leading markers (# > - 1.), and a zero-width space
 * in @everyone / @here. allowed_mentions already stops any ping; this also stops them being shown as mentions.
 */
export function escapeDiscord(text: string): string {
  return text
    .replace(/[\\*_~`|[\]<]/g, '\\$&')
    .replace(/^(\s*)([#>-]|\d+\.)/gm, '$1\\$2')
    .replace(/@(everyone|here)/gi, '@\u200b$1');
}

export const discordHandler = defineHandlerType({
  options: discordOptions,
  create: (options) => ({
    async deliver(event, ctx) {
      const card = glance(event, options.title);
      const embed = {
        title: cutText(escapeDiscord(card.title), TITLE_MAX),
        ...(card.link ? { url: card.link.url } : {}),
        ...(card.lines.length > 0 ? { description: card.lines.map((line) => `> ${escapeDiscord(line)}`).join('\n') } : {}),
        fields: card.facts.map((fact) => ({ name: fact.label, value: cutText(escapeDiscord(fact.value), FIELD_VALUE_MAX), inline: true })),
        color: COLOUR[event.type],
        timestamp: event.receivedAt,
      };
      const body = {
        ...(options.username ? { username: options.username } : {}),
        embeds: [embed],
        // Nothing in the message may ping anyone, whatever the text says.
        allowed_mentions: { parse: [] },
      };
      return asResult(await send(options.webhookUrl, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctx.signal }));
    },
    async deliverAlert(notice, ctx) {
      const card = alertGlance(notice);
      const embed = {
        title: cutText(escapeDiscord(card.title), TITLE_MAX),
        ...(card.link ? { url: card.link.url } : {}),
        fields: card.facts.map((fact) => ({ name: fact.label, value: cutText(escapeDiscord(fact.value), FIELD_VALUE_MAX), inline: fact.label !== 'What to do' && fact.label !== 'Last error' })),
        color: notice.action === 'resolve' ? 0x16a34a : 0xdc2626,
        timestamp: new Date(notice.action === 'resolve' && notice.alert.resolvedAt !== null ? notice.alert.resolvedAt : notice.alert.openedAt).toISOString(),
      };
      const body = { ...(options.username ? { username: options.username } : {}), embeds: [embed], allowed_mentions: { parse: [] } };
      return asResult(await send(options.webhookUrl, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctx.signal }));
    },
  }),
});
