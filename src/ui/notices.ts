// What a POST-then-redirect says on the page it lands on: a code and a number travel in the URL, never free text.
import type { Query } from './filters.js';
import { param } from './filters.js';

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function noticeFrom(query: Query): string | undefined {
  const n = Number(param(query, 'n'));
  const count = Number.isSafeInteger(n) && n >= 0 ? n : 0;
  switch (param(query, 'notice')) {
    case 'redelivered':
      return `${plural(count, 'delivery', 'deliveries')} queued again.`;
    case 'replayed':
      return 'The rejected body passed validation and is stored as this event.';
    case 'replayed-duplicate':
      return 'The rejected body passed validation; it was already stored as this event.';
    case 'erased': {
      const rejections = Number(param(query, 'r'));
      return `Erased ${plural(count, 'event', 'events')} and ${plural(Number.isSafeInteger(rejections) ? rejections : 0, 'rejected body', 'rejected bodies')}.`;
    }
    default:
      return undefined;
  }
}
