// One event's deliveries in a word for the inbox: the status that most needs a person, and how many share it.
import type { Delivery, DeliveryStatus } from '../store/storage.js';

// Worst first: what a support lead should look at before the rest.
const ORDER: DeliveryStatus[] = ['dead', 'failed', 'running', 'pending', 'succeeded', 'cancelled'];

export type DeliverySummary = { status: DeliveryStatus; count: number; total: number } | null;

export function summariseDeliveries(deliveries: readonly Delivery[]): DeliverySummary {
  for (const status of ORDER) {
    const count = deliveries.filter((delivery) => delivery.status === status).length;
    if (count > 0) return { status, count, total: deliveries.length };
  }
  return null;
}
