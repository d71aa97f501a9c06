// The `email` handler: a mail per event over SMTP; the transcript's HTML is sanitised, replies go to the visitor.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import nodemailer from 'nodemailer';
import sanitizeHtml from 'sanitize-html';
import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../../chatlio/index.js';
import { defineHandlerType, type HandlerResult } from '../handler.js';
import { DEFAULT_TEXT, eventView, render, templateSchema } from '../template.js';
import { GLANCE_TITLE } from './glance.js';
import { cutText } from '../../text.js';
import { visitorEmail } from '../visitor-email.js';
import { alertText, alertTitle } from '../../alerts/notice.js';

const template = z.union([templateSchema, z.partialRecord(z.enum(EVENT_TYPES), templateSchema)]);

export const emailOptions = z
  .strictObject({
    host: z.string().min(1),
    /** Defaults to 465 with `secure`, else 587 (submission with STARTTLS). */
    // Coerced: a recipe takes it from the environment ("${SMTP_PORT:-587}"), and substituted values are strings.
    port: z.coerce.number({ error: 'expected a port number' }).int().min(1).max(65535).optional(),
    /** TLS from the first byte (port 465). Without it the connection is upgraded with STARTTLS. */
    secure: z.boolean().default(false),
    /** Refuse to send (and to log in) unless the server upgrades to TLS with STARTTLS; turn off only for a local relay. */
    requireTLS: z.boolean().default(true),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    tls: z
      .strictObject({
        /** A PEM file (relative to the config file) of the CA or self-signed certificate to trust. */
        caFile: z.string().min(1).optional(),
        /** false accepts any certificate: only for a server you reach over a network you trust. */
        rejectUnauthorized: z.boolean().default(true),
      })
      .optional(),
    from: z.email(),
    fromName: z.string().min(1).optional(),
    to: z.union([z.email(), z.array(z.email()).min(1)]).transform((to) => (Array.isArray(to) ? to : [to])),
    subject: template.optional(),
    text: template.optional(),
    /** Attach the transcript's htmlBody, sanitised, as the HTML part. */
    html: z.boolean().default(true),
  })
  .refine((options) => (options.user === undefined) === (options.password === undefined), {
    message: 'give both user and password, or neither',
    path: ['password'],
  });

const SUBJECT: Record<EventType, string> = {
  ...GLANCE_TITLE,
  'offline-message': '{{#subject}}{{subject}}{{/subject}}{{^subject}}Offline message from {{who}}{{/subject}}',
};

const DETAILS =
  '\n\nVisitor: {{who}}{{#visitor.email}} <{{visitor.email}}>{{/visitor.email}}{{#page}}\nPage: {{page}}{{/page}}{{#visitor.location}}\nLocation: {{visitor.location}}{{/visitor.location}}';

/** Plain text: the one-line summary, who and where, then the transcript's own text or the message in full. */
export const EMAIL_TEXT: Record<EventType, string> = {
  'conversation-started': `${DEFAULT_TEXT['conversation-started']}${DETAILS}`,
  unanswered: `${DEFAULT_TEXT.unanswered}${DETAILS}`,
  feedback: `${DEFAULT_TEXT.feedback}${DETAILS}`,
  transcript: `${DEFAULT_TEXT.transcript}{{#chatFeedback}}\nFeedback: {{chatFeedback}}{{/chatFeedback}}${DETAILS}{{#archiveUrl}}\nIn Slack: {{archiveUrl}}{{/archiveUrl}}{{#textBody}}\n\n{{textBody}}{{/textBody}}`,
  'offline-message': `Offline message from {{who}}${DETAILS}\n\n{{message}}`,
};

/** What survives of Chatlio's HTML: text structure and http(s)/mailto links; no scripts, styles, images or forms. */
const SAFE_HTML: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'div', 'span', 'b', 'strong', 'i', 'em', 'u', 's', 'a', 'ul', 'ol', 'li', 'blockquote', 'pre', 'code',
    'h1', 'h2', 'h3', 'h4', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'hr'],
  allowedAttributes: { a: ['href', 'title'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
};

export const sanitizeTranscriptHtml = (html: string): string => sanitizeHtml(html, SAFE_HTML);

/** Header text from visitor data: one line (nodemailer encodes the rest), cut to a readable length. */
const oneLine = (text: string, max: number) => {
  const line = text.replace(/[\r\n\u2028\u2029\t]+/g, ' ').replace(/\s+/g, ' ').trim();
  return cutText(line, max);
};

type SmtpError = Error & { code?: string; responseCode?: number; response?: string };

/** SMTP's verdict as a handler result: 5xx replies are final (dead), 4xx replies and connection failures are retried. */
export function smtpFailure(error: unknown): HandlerResult {
  const smtp = error as SmtpError;
  const reply = smtp.response && !smtp.message.includes(smtp.response) ? `${smtp.message} (${smtp.response})` : smtp.message;
  const detail = cutText(`${smtp.code ?? 'SMTP error'}${smtp.responseCode ? ` ${smtp.responseCode}` : ''}: ${reply}`, 500);
  return { ok: false, error: detail, ...(smtp.responseCode !== undefined && smtp.responseCode >= 500 ? { permanent: true } : {}) };
}

export const emailHandler = defineHandlerType({
  options: emailOptions,
  create: (options, deps) => {
    let ca: string | undefined;
    if (options.tls?.caFile) {
      const file = resolve(deps.configDir, options.tls.caFile);
      try {
        ca = readFileSync(file, 'utf8');
      } catch (error) {
        throw new Error(`handler ${deps.name}: cannot read tls.caFile ${file}: ${(error as Error).message}`, { cause: error });
      }
    }
    // Not pooled: one connection per mail, so nothing stays open between events and each attempt starts clean.
    const transport = nodemailer.createTransport({
      host: options.host,
      port: options.port ?? (options.secure ? 465 : 587),
      secure: options.secure,
      requireTLS: !options.secure && options.requireTLS,
      ...(options.user !== undefined ? { auth: { user: options.user, pass: options.password } } : {}),
      tls: { rejectUnauthorized: options.tls?.rejectUnauthorized ?? true, ...(ca ? { ca } : {}) },
    });
    const fromDomain = options.from.split('@')[1];
    return {
      async deliver(event, ctx): Promise<HandlerResult> {
        const view = eventView(event);
        const subjectTemplate = (typeof options.subject === 'string' ? options.subject : options.subject?.[event.type]) ?? SUBJECT[event.type];
        const textTemplate = (typeof options.text === 'string' ? options.text : options.text?.[event.type]) ?? EMAIL_TEXT[event.type];
        const htmlBody = event.type === 'transcript' && typeof event.payload.htmlBody === 'string' ? event.payload.htmlBody.trim() : '';
        const replyTo = visitorEmail(event);
        try {
          const info = await transport.sendMail({
            from: options.fromName ? { name: oneLine(options.fromName, 100), address: options.from } : options.from,
            to: options.to,
            ...(replyTo ? { replyTo } : {}),
            subject: oneLine(render(subjectTemplate, view), 250) || `Chatlio ${event.type}`,
            text: render(textTemplate, view),
            ...(options.html && htmlBody ? { html: sanitizeTranscriptHtml(htmlBody) } : {}),
            // The same Message-ID on every retry of a delivery, so a mail sent twice threads as one.
            messageId: `<${ctx.deliveryId}@${fromDomain}>`,
            headers: { 'X-Chatlio-Event-Id': event.id, 'X-Chatlio-Event-Type': event.type },
            signal: ctx.signal,
          });
          const rejected = info.rejected.map(String);
          return {
            ok: true,
            externalId: info.messageId,
            response: `${info.response}${rejected.length > 0 ? `; refused: ${rejected.join(', ')}` : ''}`,
          };
        } catch (error) {
          return smtpFailure(error);
        }
      },
      async deliverAlert(notice, ctx): Promise<HandlerResult> {
        // The resolution replies to the alert's mail, so a mail client shows the episode as one thread.
        const opening = `<${notice.key}@${fromDomain}>`;
        const threading = notice.action === 'resolve' ? { messageId: `<${notice.key}-resolved@${fromDomain}>`, inReplyTo: opening, references: opening } : { messageId: opening };
        try {
          const info = await transport.sendMail({
            from: options.fromName ? { name: oneLine(options.fromName, 100), address: options.from } : options.from,
            to: options.to,
            subject: oneLine(`[chatlio-relay] ${alertTitle(notice)}`, 250),
            text: alertText(notice),
            ...threading,
            headers: { 'X-Chatlio-Relay-Alert': `${notice.alert.kind} ${notice.action}` },
            signal: ctx.signal,
          });
          return { ok: true, externalId: info.messageId, response: info.response };
        } catch (error) {
          return smtpFailure(error);
        }
      },
    };
  },
});
