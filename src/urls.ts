// The webhook URLs to paste into Chatlio's dashboard (Behavior tab → Webhooks and post-chat actions).
import type { Config } from './config.js';
import { EVENT_TYPES, type EventType } from './chatlio/index.js';

export const DASHBOARD_FIELD: Record<EventType, string> = {
  transcript: 'Exporting chat transcripts',
  'offline-message': 'Exporting offline messages',
  'conversation-started': 'New conversation has started',
  unanswered: 'Visitor did not get an answer in time',
  feedback: 'Visitor left feedback after a chat',
};

/** PUBLIC_URL when set; otherwise the local address, which Chatlio cannot reach. */
export function baseUrl(config: Pick<Config, 'publicUrl' | 'host' | 'port'>): { url: string; isPublic: boolean } {
  if (config.publicUrl) return { url: config.publicUrl, isPublic: true };
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`, isPublic: false };
}

export function webhookUrls(config: Pick<Config, 'publicUrl' | 'host' | 'port'>, token: string) {
  const { url } = baseUrl(config);
  return EVENT_TYPES.map((type) => ({
    type,
    field: DASHBOARD_FIELD[type],
    url: `${url}/webhooks/chatlio/${type}?token=${encodeURIComponent(token)}`,
  }));
}

/** The web inbox's address. It carries no secret, so it is printed even where the webhook URLs are not. */
export function inboxUrl(config: Pick<Config, 'publicUrl' | 'host' | 'port'>): string {
  return `${baseUrl(config).url}/ui`;
}

/** The text printed at first start and by `chatlio-relay urls`. */
export function formatWebhookUrls(config: Pick<Config, 'publicUrl' | 'host' | 'port'>, token: string, apiTokenWhere: string): string {
  const lines = ['Paste these into Chatlio (Behavior tab → Webhooks and post-chat actions), one per field:', ''];
  for (const { field, url } of webhookUrls(config, token)) lines.push(`  ${field}:`, `    ${url}`);
  lines.push('');
  if (!baseUrl(config).isPublic) {
    lines.push('These use the local address: Chatlio needs a public HTTPS one. Set PUBLIC_URL to the address Chatlio reaches.');
  }
  lines.push(`Web inbox: ${inboxUrl(config)}`, `  sign in with the API token: ${apiTokenWhere}`);
  return lines.join('\n');
}
