// The `command` handler: runs a program (an argument array, never a shell line) with the event (or alert) JSON on stdin.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { z } from 'zod';
import { defineHandlerType, eventJsonOf, type DispatchEvent, type HandlerContext, type HandlerResult } from '../handler.js';
import { alertMessage, type AlertNotice } from '../../alerts/notice.js';
import { RESPONSE_MAX_CHARS } from '../../store/deliveries.js';
import { cutText } from '../../text.js';

/**
 * A UTF-8 character takes 1–4 bytes for 1–2 UTF-16 units, so this many bytes decode to more than RESPONSE_MAX_CHARS
 * units: a character the byte cap cut in half always lies beyond the text that is kept.
 */
const OUTPUT_MAX_BYTES = RESPONSE_MAX_CHARS * 4;

export const commandOptions = z.strictObject({
  /** Program and arguments, e.g. [/usr/local/bin/siren, --seconds, "3"]; no shell is involved. */
  command: z.array(z.string().min(1)).min(1),
  /** Extra environment; the program otherwise sees only PATH, HOME, LANG and the HOOK_* variables. */
  env: z.record(z.string(), z.string()).optional(),
  /** Working directory, relative to the config file's directory. */
  cwd: z.string().optional(),
});

/** What the program learns without parsing stdin. */
export function hookEnv(event: DispatchEvent, deliveryId: string, attempt: number): Record<string, string> {
  return {
    HOOK_EVENT_ID: event.id,
    HOOK_EVENT_TYPE: event.type,
    HOOK_DELIVERY_ID: deliveryId,
    HOOK_ATTEMPT: String(attempt),
    HOOK_CONVERSATION_UUID: event.conversationUUID ?? '',
    HOOK_VISITOR_UUID: event.visitor.uuid ?? '',
    HOOK_VISITOR_EMAIL: event.visitor.email ?? '',
    HOOK_VISITOR_NAME: event.visitor.name ?? '',
    HOOK_RATING: event.rating ?? '',
  };
}

const inherited = (names: string[]) =>
  Object.fromEntries(names.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]!]])));

/** What the program learns about an alert without parsing stdin. */
export function alertHookEnv(notice: AlertNotice, deliveryId: string, attempt: number): Record<string, string> {
  return {
    HOOK_ALERT_ID: String(notice.alert.id),
    HOOK_ALERT_KIND: notice.alert.kind,
    HOOK_ALERT_ACTION: notice.action,
    HOOK_ALERT_SUBJECT: notice.alert.subject,
    HOOK_DELIVERY_ID: deliveryId,
    HOOK_ATTEMPT: String(attempt),
  };
}

export const commandHandler = defineHandlerType({
  options: commandOptions,
  create: (options, deps) => {
    /** Runs the program once with `stdin` and the HOOK_* variables; exit code 0 is success. */
    const run = (stdin: string, hooks: Record<string, string>, ctx: HandlerContext) =>
      new Promise<HandlerResult>((done) => {
        const [program, ...args] = options.command as [string, ...string[]];
        // Bytes, decoded once at the end: a chunk can end in the middle of a UTF-8 character.
        const chunks: Buffer[] = [];
        let captured = 0;
        const capture = (chunk: Buffer) => {
          if (captured >= OUTPUT_MAX_BYTES) return;
          chunks.push(chunk);
          captured += chunk.length;
        };
        // Its own process group, so a timeout also ends whatever the program started.
        const child = spawn(program, args, {
          shell: false,
          detached: true,
          cwd: options.cwd ? resolve(deps.configDir, options.cwd) : deps.configDir,
          env: { ...inherited(['PATH', 'HOME', 'LANG', 'TZ']), ...options.env, ...hooks },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        const kill = () => {
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        };
        ctx.signal.addEventListener('abort', kill, { once: true });
        child.stdout.on('data', capture);
        child.stderr.on('data', capture);
        // A program that does not read stdin closes it early: that is its business, not a failure.
        child.stdin.on('error', () => undefined);
        child.stdin.end(stdin);
        const finish = (result: HandlerResult) => {
          ctx.signal.removeEventListener('abort', kill);
          const output = cutText(Buffer.concat(chunks).toString('utf8'), RESPONSE_MAX_CHARS, '');
          done({ ...result, response: output || undefined });
        };
        child.on('error', (error) => finish({ ok: false, error: `cannot run ${program}: ${error.message}` }));
        child.on('close', (code, signal) => {
          if (ctx.signal.aborted) return finish({ ok: false, error: `killed: ${String((ctx.signal.reason as Error)?.message ?? 'aborted')}` });
          if (code === 0) return finish({ ok: true });
          finish({ ok: false, error: signal ? `ended by ${signal}` : `exited with code ${code}` });
        });
      });
    return {
      deliver: (event, ctx) => run(JSON.stringify(eventJsonOf(event)), hookEnv(event, ctx.deliveryId, ctx.attempt), ctx),
      // The alert as the http handler sends it (JSON with its action); HOOK_ALERT_* tell it from an event.
      deliverAlert: (notice, ctx) =>
        run(JSON.stringify(alertMessage(notice)), alertHookEnv(notice, ctx.deliveryId, ctx.attempt), ctx),
    };
  },
});
