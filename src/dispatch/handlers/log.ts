// The `log` handler: writes each event through pino, e.g. to see what would be dispatched.
import { z } from 'zod';
import { defineHandlerType, eventJsonOf } from '../handler.js';
import { maskEmail } from '../../logger.js';
import { alertTitle } from '../../alerts/notice.js';

export const logOptions = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    /** Include the whole payload, not only the event's id, type and visitor (never masked: leave it off with LOG_MASK_PII). */
    payload: z.boolean().default(false),
  })
  .default({ level: 'info', payload: false });

export const logHandler = defineHandlerType({
  options: logOptions,
  create: (options, deps) => ({
    async deliver(event, ctx) {
      const { payload, summary, ...fields } = eventJsonOf(event);
      // The one-line summary names the visitor, so it is left out when their details are masked.
      const logged = deps.maskPii
        ? { ...fields, visitor: { ...fields.visitor, email: maskEmail(fields.visitor.email) ?? null, name: fields.visitor.name ? '***' : null } }
        : { ...fields, summary };
      ctx.logger[options.level]({ event: options.payload ? { ...logged, payload } : logged, handler: deps.name }, `chatlio ${event.type} event`);
      return { ok: true };
    },
    async deliverAlert(notice, ctx) {
      const { alert, action } = notice;
      ctx.logger[options.level]({ alert: { id: alert.id, kind: alert.kind, subject: alert.subject, action, ...alert.detail }, handler: deps.name }, alertTitle(notice));
      return { ok: true };
    },
  }),
});
