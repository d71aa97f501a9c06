// Counting what a bulk redelivery would take, for its confirmation: the storage contract has no count, so the matching
// deliveries are walked in keyset pages (cheap for the dead and failing ones this is for), up to a cap.
import type { DeliveryStatus, Storage } from '../store/storage.js';

export const REDELIVERABLE = ['dead', 'failed', 'cancelled', 'succeeded'] as const satisfies readonly DeliveryStatus[];
export type Redeliverable = (typeof REDELIVERABLE)[number];

export type BulkFilter = { status: Redeliverable; handler?: string; since?: number; until?: number };

const PAGE = 500;
export const COUNT_CAP = 100_000;

/** How many deliveries match, counting at most COUNT_CAP (then the answer is "at least"). */
export async function countMatching(storage: Storage, filter: BulkFilter): Promise<{ count: number; capped: boolean }> {
  const receivedAt = new Map<number, number | undefined>();
  const inWindow = async (eventSeq: number | null) => {
    if (filter.since === undefined && filter.until === undefined) return true;
    // An alert's notification has no event: a window of received events never holds it (as in redeliverAll).
    if (eventSeq === null) return false;
    if (!receivedAt.has(eventSeq)) receivedAt.set(eventSeq, (await storage.getEvent(eventSeq))?.receivedAt);
    const at = receivedAt.get(eventSeq);
    return at !== undefined && (filter.since === undefined || at >= filter.since) && (filter.until === undefined || at < filter.until);
  };
  let count = 0;
  let before: number | undefined;
  for (;;) {
    const page = await storage.listDeliveries({ status: filter.status, handler: filter.handler }, { before, limit: PAGE });
    for (const delivery of page) if (await inWindow(delivery.eventSeq)) count += 1;
    if (count >= COUNT_CAP) return { count, capped: true };
    if (page.length < PAGE) return { count, capped: false };
    before = page.at(-1)!.seq;
  }
}
