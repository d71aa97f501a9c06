// Wake-ups across replicas: one dedicated LISTEN connection per storage, reconnecting after errors.
import type pg from 'pg';
import type { Logger } from '../../logger.js';
import { connectClient, type ConnectionOptions } from './connection.js';
import { DUE_CHANNEL } from './ingest.js';

const RETRY_MS = { first: 100, max: 5_000 };

export class DueListener {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MS.first;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly logger: Logger,
  ) {}

  /** Registers a listener; the LISTEN connection opens with the first one. Resolves once listening. */
  add(listener: () => void): { remove: () => void; ready: Promise<void> } {
    this.listeners.add(listener);
    this.starting ??= this.connect();
    return { remove: () => this.listeners.delete(listener), ready: this.starting };
  }

  /** Fires every listener (after this process's own commits, without waiting for the round trip through the server). */
  fire(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.logger.error({ err: error }, 'a deliveries-due listener threw');
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.starting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    try {
      const client = await connectClient({ ...this.options, statementTimeoutMs: 0 });
      client.on('notification', () => this.fire());
      client.on('error', (error) => this.lost(client, error));
      client.on('end', () => this.lost(client, new Error('the server closed the connection')));
      await client.query(`LISTEN ${DUE_CHANNEL}`);
      if (this.closed) {
        await client.end();
        return;
      }
      this.client = client;
      this.retryMs = RETRY_MS.first;
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot LISTEN for due deliveries; retrying');
      this.scheduleReconnect();
    }
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.logger.warn({ err: error }, 'lost the LISTEN connection for due deliveries; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      // Notifications sent while disconnected are lost: wake everyone once, so the worker looks for itself.
      void this.connect().then(() => {
        if (this.client) this.fire();
      });
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MS.max);
  }
}
