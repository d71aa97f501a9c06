// The `http` handler: POSTs the stored bytes unchanged to a URL, optionally signed the Standard Webhooks way.
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { defineHandlerType } from '../handler.js';
import { asResult, send } from '../outbound.js';
import { alertMessage } from '../../alerts/notice.js';

const SECRET_PREFIX = 'whsec_';

export const httpOptions = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).optional(),
  signingSecret: z
    .string()
    .refine((secret) => secret.startsWith(SECRET_PREFIX) && Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64').length >= 16, {
      message: 'must be whsec_ followed by a base64 key of at least 16 bytes',
    })
    .optional(),
});

/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed with the base64-decoded part after whsec_. */
export function standardWebhookSignature(secret: string, id: string, timestamp: number, body: Buffer): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** The configured headers, JSON, and the Standard Webhooks signature of `body` when a secret is set. */
function headersFor(options: z.infer<typeof httpOptions>, deliveryId: string, body: Buffer): Record<string, string> {
  const headers: Record<string, string> = { ...options.headers, 'content-type': 'application/json' };
  if (options.signingSecret) {
    const timestamp = Math.floor(Date.now() / 1000);
    headers['webhook-id'] = deliveryId;
    headers['webhook-timestamp'] = String(timestamp);
    headers['webhook-signature'] = standardWebhookSignature(options.signingSecret, deliveryId, timestamp, body);
  }
  return headers;
}

export const httpHandler = defineHandlerType({
  options: httpOptions,
  create: (options) => ({
    async deliver(event, ctx) {
      const headers = { ...headersFor(options, ctx.deliveryId, event.raw), 'x-chatlio-event-type': event.type, 'x-chatlio-event-id': event.id };
      return asResult(await send(options.url, { headers, body: event.raw, signal: ctx.signal }));
    },
    async deliverAlert(notice, ctx) {
      // The alert as JSON, signed like an event; the header tells a receiver it is not a Chatlio event.
      const body = Buffer.from(JSON.stringify(alertMessage(notice)));
      const headers = { ...headersFor(options, ctx.deliveryId, body), 'x-chatlio-relay-alert': notice.action };
      return asResult(await send(options.url, { headers, body, signal: ctx.signal }));
    },
  }),
});
