// The inbox's filters as they travel in the URL (so a view can be bookmarked or pasted), read into a storage filter.
import { EVENT_TYPES, isEventType, type EventType } from '../chatlio/index.js';
import { normaliseTag } from '../chatlio/searchable.js';
import { parseSearchQuery, SearchQueryError } from '../store/search-terms.js';
import { DELIVERY_STATUSES, type DeliveryStatus, type EventFilter } from '../store/storage.js';
import { cutText } from '../text.js';

export type Query = Record<string, string | string[] | undefined>;

/** The form's values, as typed: what the filter form shows again. */
export type FilterForm = {
  type: EventType | '';
  rating: 'up' | 'down' | '';
  tag: string;
  q: string;
  visitor: string;
  from: string;
  to: string;
  /** Events with a delivery in this status (to `handler` when set): the API's parameter names. */
  deliveryStatus: DeliveryStatus | '';
  handler: string;
};

export const DAY_MS = 24 * 60 * 60 * 1000;

/** One value of a parameter: the first when repeated, "" when absent. */
export function param(query: Query, name: string): string {
  const value = query[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
}

/** A parameter kept to at most `max` characters, cut on a whole character (never half an emoji). */
export function paramUpTo(query: Query, name: string, max: number): string {
  return cutText(param(query, name), max, '');
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A yyyy-mm-dd from a date input, as Unix ms at midnight UTC; undefined when empty or not a real date. */
export function parseDay(value: string): number | undefined {
  if (!DATE.test(value)) return undefined;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().startsWith(value) ? ms : undefined;
}

const isDeliveryStatus = (value: string): value is DeliveryStatus => (DELIVERY_STATUSES as readonly string[]).includes(value);

export function readFilters(query: Query): { form: FilterForm; filter: EventFilter; errors: string[] } {
  const errors: string[] = [];
  const type = param(query, 'type');
  const rating = param(query, 'rating');
  const deliveryStatus = param(query, 'deliveryStatus');
  const form: FilterForm = {
    type: isEventType(type) ? type : '',
    rating: rating === 'up' || rating === 'down' ? rating : '',
    tag: paramUpTo(query, 'tag', 200),
    q: paramUpTo(query, 'q', 500),
    visitor: paramUpTo(query, 'visitor', 320),
    from: param(query, 'from'),
    to: param(query, 'to'),
    deliveryStatus: isDeliveryStatus(deliveryStatus) ? deliveryStatus : '',
    handler: paramUpTo(query, 'handler', 200),
  };
  if (type !== '' && form.type === '') errors.push(`type must be one of ${EVENT_TYPES.join(', ')}`);
  if (rating !== '' && form.rating === '') errors.push('rating must be up or down');
  if (deliveryStatus !== '' && form.deliveryStatus === '') errors.push(`delivery status must be one of ${DELIVERY_STATUSES.join(', ')}`);
  if (form.handler && deliveryStatus === '') errors.push('choose a delivery status to filter by handler');
  const filter: EventFilter = {};
  if (form.type) filter.types = [form.type];
  if (form.rating) filter.rating = form.rating;
  if (form.tag) filter.tag = normaliseTag(form.tag);
  if (form.visitor) filter.visitor = form.visitor;
  if (form.deliveryStatus) filter.delivery = form.handler ? { status: form.deliveryStatus, handler: form.handler } : { status: form.deliveryStatus };
  if (form.q) {
    try {
      filter.search = parseSearchQuery(form.q);
    } catch (error) {
      if (!(error instanceof SearchQueryError)) throw error;
      errors.push(`search: ${error.message.replace(/^q /, '')}`);
    }
  }
  for (const [name, bound] of [['from', 'since'], ['to', 'until']] as const) {
    if (form[name] === '') continue;
    const day = parseDay(form[name]);
    if (day === undefined) errors.push(`${name} must be a date (yyyy-mm-dd)`);
    // "to" is the last day shown, so the bound is the midnight after it.
    else filter[bound] = bound === 'until' ? day + DAY_MS : day;
  }
  return { form, filter, errors };
}

/** The query string of a form, without its empty fields, plus extra parameters. */
export function filterQuery(form: Partial<FilterForm>, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...form, ...extra })) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}
