// The alert conditions, as data: given the rules and what the storage says now, which alerts should be open. Pure
// apart from its indexed reads, so the evaluator only compares this with the open alerts.
import type { AlertRules, HandlerConfig } from '../dispatch/config.js';
import type { Alert, AlertKind, NewAlert, Storage } from '../store/storage.js';

export type ConditionInput = {
  storage: Storage;
  rules: AlertRules;
  handlers: readonly HandlerConfig[];
  /** PUBLIC_URL, else the local address: links in alerts start with it. */
  baseUrl: string;
  now: number;
  /** When this process started watching: "no webhook for a while" counts from here when no event is stored. */
  watchingSince: number;
  /** The alerts open now. */
  open: readonly Alert[];
};

const roughly = (ms: number) => (ms < 120_000 ? `${Math.round(ms / 1000)} s` : ms < 7_200_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 3_600_000)} h`);

/** The alerts the current state calls for, at most one per kind and subject. */
export async function wantedAlerts(input: ConditionInput): Promise<NewAlert[]> {
  const { storage, rules, now, baseUrl } = input;
  const wanted: NewAlert[] = [];
  const deliveriesLink = (handler: string, status?: string) =>
    `${baseUrl}/api/deliveries?${new URLSearchParams(status ? { handler, status } : { handler }).toString()}`;
  // Notify handlers are never the subject of an alert: their own failure would raise an alert sent through them, again.
  const watched = input.handlers.filter((handler) => !rules.notify.includes(handler.name));

  for (const { name } of watched) {
    const health = await storage.handlerHealth(name);
    const last = { lastError: health?.lastError ?? null, lastStatusCode: health?.lastStatusCode ?? null };
    const about = (kind: AlertKind, summary: string, advice: string, status?: string): NewAlert => ({
      kind,
      subject: name,
      detail: { summary, advice, handler: name, ...last, link: deliveriesLink(name, status) },
    });

    if (rules.dead) {
      const dead = await storage.deadCount(name);
      if (dead > 0) {
        wanted.push(
          about(
            'dead',
            `${name}: ${dead} ${dead === 1 ? 'delivery' : 'deliveries'} gave up (dead)`,
            `Fix what the last error says, then redeliver them: chatlio-relay replay --handler ${name} (or POST /api/deliveries/redeliver?status=dead&handler=${name}).`,
            'dead',
          ),
        );
      }
    }
    if (rules.failures !== null && health && health.consecutiveFailures >= rules.failures) {
      wanted.push(
        about(
          'failing',
          `${name}: ${health.consecutiveFailures} attempts failed in a row`,
          `Check ${name}'s destination and credentials against the last error; deliveries keep retrying and the alert resolves at the next success.`,
          'failed',
        ),
      );
    }
    if (rules.overdueMs !== null) {
      const oldestDue = await storage.nextDueAt([name]);
      if (oldestDue !== undefined && now - oldestDue > rules.overdueMs) {
        wanted.push(
          about(
            'overdue',
            `${name}: a delivery has waited ${roughly(now - oldestDue)} past its due time`,
            `Deliveries to ${name} are backing up: check that the relay is running and that ${name}'s destination answers (see its last error).`,
            // Waiting ones are pending (never tried) or failed (retrying): the link shows the handler's deliveries in any status.
          ),
        );
      }
    }
  }

  if (rules.silenceMs !== null) {
    // From the newest stored event, so a restart neither resets nor resolves the silence; with none stored, since start.
    const lastEvent = await storage.lastEventReceivedAt();
    const silentSince = lastEvent ?? input.watchingSince;
    // Only a webhook ends a silence: with none stored, a restarted process counts from its own start, which must not
    // resolve the silence the previous one saw.
    const ongoing = input.open.find((alert) => alert.kind === 'silence');
    const noWebhookSince = ongoing !== undefined && (lastEvent === undefined || lastEvent < ongoing.openedAt);
    if (now - silentSince > rules.silenceMs || noWebhookSince) {
      wanted.push({
        kind: 'silence',
        subject: '',
        detail: {
          summary: `No webhook from Chatlio for ${roughly(now - silentSince)}`,
          advice: "Check the webhook URLs and token in Chatlio's dashboard (chatlio-relay urls prints them) and that Chatlio can reach PUBLIC_URL.",
          link: `${baseUrl}/api/events?limit=1`,
        },
      });
    }
  }

  if (rules.rejectionsMs !== null) {
    const [latest] = await storage.listRejections({ limit: 1 });
    if (latest && now - latest.receivedAt <= rules.rejectionsMs) {
      const first = latest.errors[0];
      wanted.push({
        kind: 'rejections',
        subject: '',
        detail: {
          summary: `Chatlio ${latest.type} webhooks are being refused (422)`,
          advice: 'Chatlio may have changed its payload: inspect the refused bodies, then replay them once the relay accepts them (POST /api/rejections/{id}/replay).',
          lastError: first ? `${first.path}: ${first.message}` : null,
          lastStatusCode: 422,
          link: `${baseUrl}/api/rejections`,
        },
      });
    }
  }
  return wanted;
}
