// The `slack` handler: one readable incoming-webhook message per event, visitor text escaped for Slack mrkdwn.
import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../../chatlio/index.js';
import { defineHandlerType } from '../handler.js';
import { asResult, send } from '../outbound.js';
import { escapeSlack, eventView, render, templateSchema } from '../template.js';
import { alertFacts, alertTitle } from '../../alerts/notice.js';

const template = templateSchema;

export const slackOptions = z.strictObject({
  /** The incoming-webhook URL Slack gives you (https://hooks.slack.com/services/...). */
  webhookUrl: z.url({ protocol: /^https?$/ }),
  /** One template for every type, or one per type; {{x}} is escaped for mrkdwn, {{{x}}} is not. */
  text: z.union([template, z.partialRecord(z.enum(EVENT_TYPES), template)]).optional(),
});

/** Links use Slack's <url|label> syntax; the label and the values inside are escaped by the renderer. */
export const SLACK_TEXT: Record<EventType, string> = {
  'conversation-started': ':speech_balloon: *New chat* from {{who}}{{#page}} on {{page}}{{/page}}\n>{{message}}',
  unanswered: ':rotating_light: *Nobody has answered* {{who}}{{#page}} on {{page}}{{/page}}\n>{{message}}',
  feedback: '{{thumb}} *Feedback* from {{who}}{{#chatFeedback}}\n>{{chatFeedback}}{{/chatFeedback}}{{^chatFeedback}}{{#message}}\n>{{message}}{{/message}}{{/chatFeedback}}',
  transcript:
    ':memo: *Chat ended* with {{who}}{{#agentName}}, answered by {{agentName}}{{/agentName}} {{thumb}}{{#chatFeedback}}\n>{{chatFeedback}}{{/chatFeedback}}{{#archiveUrl}}\n<{{archiveUrl}}|Open in Slack>{{/archiveUrl}}',
  'offline-message': ':envelope: *Offline message* from {{who}}{{#visitor.email}} ({{visitor.email}}){{/visitor.email}}\n>{{message}}',
};

export const slackHandler = defineHandlerType({
  options: slackOptions,
  create: (options) => ({
    async deliver(event, ctx) {
      const custom = typeof options.text === 'string' ? options.text : options.text?.[event.type];
      const text = render(custom ?? SLACK_TEXT[event.type], eventView(event), 'slack');
      return asResult(
        await send(options.webhookUrl, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }), signal: ctx.signal }),
      );
    },
    async deliverAlert(notice, ctx) {
      // Alert text comes from our own wording and error messages (which may quote a remote): escaped all the same.
      const icon = notice.action === 'resolve' ? ':white_check_mark:' : ':rotating_light:';
      const facts = alertFacts(notice).map((fact) => `*${escapeSlack(fact.label)}:* ${escapeSlack(fact.value)}`);
      const text = [`${icon} *${escapeSlack(alertTitle(notice))}*`, ...facts].join('\n');
      return asResult(
        await send(options.webhookUrl, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }), signal: ctx.signal }),
      );
    },
  }),
});
