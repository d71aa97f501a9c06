// pino, configured so tokens never reach a log line and visitor PII can be masked with one setting.
import { pino, type Logger } from 'pino';
import type { FastifyRequest } from 'fastify';

export type { Logger };

/** A query parameter's name as a query parser could read it: `+` and %XX decoded, again and again, lower-cased. */
function decodedName(name: string): string {
  let previous: string;
  let current = name;
  do {
    previous = current;
    current = current.replaceAll('+', ' ').replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  } while (current !== previous);
  return current.toLowerCase();
}

/**
 * Drops the value of every query parameter whose name, decoded, contains "token": the webhook URL is its own
 * credential, and the query parser accepts the name percent-encoded (`tok%65n`, `%74oken`), so matching the raw text
 * is not enough.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const parameters = url.slice(start + 1).split('&').map((parameter) => {
    const equals = parameter.indexOf('=');
    const name = equals < 0 ? parameter : parameter.slice(0, equals);
    if (!decodedName(name).includes('token')) return parameter;
    // Without a plain `=` (e.g. `token%3D…`) the whole parameter may be the secret.
    return equals < 0 ? '[REDACTED]' : `${name}=[REDACTED]`;
  });
  return `${url.slice(0, start)}?${parameters.join('&')}`;
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
