// pino, configured so tokens never reach a log line and visitor PII can be masked with one setting.
import { pino, type Logger } from 'pino';
import type { FastifyRequest } from 'fastify';

export type { Logger };

/** Drops the value of every `token` query parameter: the webhook URL is its own credential. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[REDACTED]');
}

/** Masks email addresses in a URL (an erasure request or a `visitor=` filter carries one), encoded or not. */
export function maskUrlEmails(url: string): string {
  return url.replace(/([^/?&=\s])[^/?&=\s]*(@|%40)/gi, '$1***$2');
}

export function maskIp(ip: string | undefined): string | undefined {
  if (!ip) return ip;
  if (ip.includes('.')) return ip.replace(/\.\d+$/, '.0');
  return `${ip.split(':').slice(0, 3).join(':')}::`;
}

export function maskEmail(email: string | null | undefined): string | null | undefined {
  if (!email) return email;
  const at = email.indexOf('@');
  return at > 0 ? `${email[0]}***${email.slice(at)}` : '***';
}

export type LoggerOptions = { level: string; pretty: boolean; maskPii: boolean };

export function createLogger(options: LoggerOptions, destination?: pino.DestinationStream): Logger {
  const ip = (value: string | undefined) => (options.maskPii ? maskIp(value) : value);
  return pino(
    {
      level: options.level,
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', '*.apiToken', '*.authToken', 'token', '*.token'],
        censor: '[REDACTED]',
      },
      serializers: {
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: options.maskPii ? maskUrlEmails(redactUrl(request.url)) : redactUrl(request.url),
          remoteAddress: ip(request.ip),
        }),
        err: pino.stdSerializers.err,
      },
      transport: options.pretty && !destination ? { target: 'pino-pretty' } : undefined,
    },
    destination,
  );
}
