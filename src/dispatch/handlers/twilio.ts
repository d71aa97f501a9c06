// The `twilio` handler: an SMS to each configured number; numbers already texted are skipped when the delivery retries.
import { z } from 'zod';
import { EVENT_TYPES } from '../../chatlio/index.js';
import { defineHandlerType, type HandlerContext, type HandlerResult } from '../handler.js';
import { basicAuth, send } from '../outbound.js';
import { classifyStatus } from '../retry.js';
import { DEFAULT_TEXT, eventView, render, templateSchema } from '../template.js';
import { cutSms } from '../../text.js';
import { alertFacts, alertTitle } from '../../alerts/notice.js';

const template = templateSchema;

const phone = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number such as +15550001111');

export const twilioOptions = z
  .strictObject({
    accountSid: z.string().min(1),
    authToken: z.string().min(1),
    from: phone.optional(),
    messagingServiceSid: z.string().min(1).optional(),
    to: z.union([phone, z.array(phone).min(1)]).transform((to) => (Array.isArray(to) ? to : [to])),
    body: z.union([template, z.partialRecord(z.enum(EVENT_TYPES), template)]).optional(),
    /** The most SMS segments (each billed) one message may take; a longer body is cut on a whole character. */
    maxSegments: z.number().int().min(1).max(10).default(3),
    /** Optionally also at most this many UTF-16 units (an emoji counts 2); 1600 is Twilio's own limit. */
    maxLength: z.number().int().min(20).max(1600).optional(),
    baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.twilio.com'),
  })
  .refine((options) => options.from !== undefined || options.messagingServiceSid !== undefined, {
    message: 'give from or messagingServiceSid',
    path: ['from'],
  });

/** Per-delivery progress: which numbers already got the message (number → Twilio message SID). */
type TwilioState = { sent: Record<string, string> };

const isState = (value: unknown): value is TwilioState =>
  typeof value === 'object' && value !== null && typeof (value as TwilioState).sent === 'object';

export const twilioHandler = defineHandlerType({
  options: twilioOptions,
  create: (options) => {
    const url = `${options.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
    const authorization = basicAuth(options.accountSid, options.authToken);

    /** Texts every number that has not had this delivery's message yet (ctx.state remembers them across retries). */
    async function textEveryone(text: string, ctx: HandlerContext): Promise<HandlerResult> {
      const body = cutSms(text, options.maxSegments, options.maxLength);
      const sent = { ...(isState(ctx.state) ? ctx.state.sent : {}) };
      const failures: HandlerResult[] = [];
      for (const to of options.to) {
        if (sent[to]) continue;
        const form = new URLSearchParams({ To: to, Body: body });
        if (options.messagingServiceSid) form.set('MessagingServiceSid', options.messagingServiceSid);
        else form.set('From', options.from!);
        const result = await send(url, {
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
          body: form.toString(),
          signal: ctx.signal,
        });
        if (result.ok) {
          let sid: unknown;
          try {
            sid = (JSON.parse(result.body ?? '') as { sid?: unknown }).sid;
          } catch {
            sid = undefined;
          }
          sent[to] = typeof sid === 'string' ? sid : 'sent';
        } else {
          failures.push({ ok: false, statusCode: result.statusCode, error: `${to}: ${result.error}`, retryAfterMs: result.retryAfterMs });
        }
      }
      const state: TwilioState = { sent };
      const externalId = Object.values(sent).join(',') || undefined;
      if (failures.length === 0) return { ok: true, statusCode: 201, state, externalId, response: `sent to ${Object.keys(sent).join(', ')}` };
      // Retry if any number may still succeed; numbers already texted are skipped next time.
      const retryable = failures.find((failure) => failure.statusCode === undefined || classifyStatus(failure.statusCode) === 'retry');
      const worst = retryable ?? failures[0]!;
      return {
        ok: false,
        statusCode: worst.statusCode,
        error: failures.map((failure) => failure.error).join('; '),
        retryAfterMs: worst.retryAfterMs,
        state,
        externalId,
      };
    }

    return {
      async deliver(event, ctx): Promise<HandlerResult> {
        const custom = typeof options.body === 'string' ? options.body : options.body?.[event.type];
        return textEveryone(render(custom ?? DEFAULT_TEXT[event.type], eventView(event)).trim(), ctx);
      },
      async deliverAlert(notice, ctx): Promise<HandlerResult> {
        // An SMS stays short: the title, and for a new alert the last error and the link; the rest is one click away.
        const facts = notice.action === 'trigger' ? alertFacts(notice).filter((fact) => fact.label === 'Last error' || fact.label === 'Details') : [];
        return textEveryone([alertTitle(notice), ...facts.map((fact) => fact.value)].join('\n'), ctx);
      },
    };
  },
});
