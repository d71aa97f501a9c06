// The inbox: every event newest first, filtered by what the URL says, paged by key so new arrivals never shift a page.
import { EVENT_TYPES } from '../../chatlio/index.js';
import { DELIVERY_STATUSES, type EventRow } from '../../store/storage.js';
import { Layout } from '../layout.js';
import { Notice, RatingBadge, SelectField, StatusBadge, Time } from '../components.js';
import { filterQuery, type FilterForm } from '../filters.js';
import type { EventView } from '../payload.js';
import type { DeliverySummary } from '../deliveries-summary.js';

export type InboxRow = { row: EventRow; view: EventView; deliveries: DeliverySummary };

export type InboxProps = {
  csrfToken: string;
  form: FilterForm;
  /** The configured handlers' names, for the delivery filter. */
  handlers: readonly string[];
  rows: InboxRow[];
  /** The seq to pass as `before` for the next (older) page; null on the last. */
  next: number | null;
  /** True when this is not the first page. */
  paged: boolean;
  errors: string[];
  notice?: string;
};

function Row({ row, view, deliveries }: InboxRow) {
  const who = row.visitorName ?? row.visitorEmail ?? 'Anonymous visitor';
  return (
    <li class="event" data-row>
      <div class="event-head">
        <span class={`type type-${row.type}`}>{row.type}</span>
        <a class="event-link" href={`/ui/events/${row.id}`} data-open>
          {who}
        </a>
        <Time at={row.receivedAt} />
      </div>
      <p class="summary">{view.summary}</p>
      <div class="event-meta">
        <RatingBadge rating={row.rating} />
        {view.tags.map((tag) => (
          <a class="tag" href={`/ui${filterQuery({ tag })}`} key={tag}>
            #{tag}
          </a>
        ))}
        {deliveries && (
          <span class="deliveries">
            <StatusBadge status={deliveries.status} />
            {deliveries.total > 1 && <span class="muted"> {deliveries.count}/{deliveries.total}</span>}
          </span>
        )}
        {row.conversationUUID && (
          <a class="conversation-link" href={`/ui/conversations/${encodeURIComponent(row.conversationUUID)}`}>
            conversation
          </a>
        )}
      </div>
    </li>
  );
}

export function InboxPage({ csrfToken, form, handlers, rows, next, paged, errors, notice }: InboxProps) {
  // A handler since removed from the config may still have deliveries: a bookmarked view keeps showing its name.
  const handlerOptions = form.handler && !handlers.includes(form.handler) ? [...handlers, form.handler] : handlers;
  const exportQuery = (format: string) => `/ui/export${filterQuery(form, { format })}`;
  return (
    <Layout title="Inbox" nav="inbox" csrfToken={csrfToken}>
      <h1>Inbox</h1>
      {notice && <Notice>{notice}</Notice>}
      {errors.map((error) => (
        <Notice kind="error" key={error}>
          {error}
        </Notice>
      ))}
      <form method="get" action="/ui" class="filters" role="search">
        <div class="field wide">
          <label for="q">Search</label>
          <input id="q" name="q" type="search" value={form.q} placeholder='words, "a phrase", prefix*' data-search />
        </div>
        <SelectField name="type" label="Type" options={EVENT_TYPES} value={form.type} any="any" />
        <SelectField name="rating" label="Rating" options={['up', 'down']} value={form.rating} any="any" />
        <div class="field">
          <label for="tag">Tag</label>
          <input id="tag" name="tag" value={form.tag} />
        </div>
        <div class="field">
          <label for="visitor">Visitor (email or UUID)</label>
          <input id="visitor" name="visitor" value={form.visitor} />
        </div>
        <SelectField name="deliveryStatus" label="Delivery status" options={DELIVERY_STATUSES} value={form.deliveryStatus} any="any" />
        <SelectField name="handler" label="Handler" options={handlerOptions} value={form.handler} any="any" />
        <div class="field">
          <label for="from">From</label>
          <input id="from" name="from" type="date" value={form.from} />
        </div>
        <div class="field">
          <label for="to">To</label>
          <input id="to" name="to" type="date" value={form.to} />
        </div>
        <div class="actions">
          <button type="submit">Filter</button>
          <a href="/ui">Clear</a>
        </div>
      </form>
      <p id="live" class="live" hidden aria-live="polite" data-live={paged ? undefined : `/ui/live${filterQuery(form, rows[0] ? { after: rows[0].row.id } : {})}`}>
        <a href={`/ui${filterQuery(form)}`} id="live-link">
          New events
        </a>
      </p>
      {rows.length === 0 ? (
        <p class="empty">{paged ? 'No older events.' : 'No events match.'}</p>
      ) : (
        <ol class="events" data-rows>
          {rows.map((item) => (
            <Row {...item} key={item.row.id} />
          ))}
        </ol>
      )}
      <nav class="pager" aria-label="Pages">
        {paged && <a href={`/ui${filterQuery(form)}`}>Newest</a>}
        {next !== null && <a href={`/ui${filterQuery(form, { before: String(next) })}`} rel="next">Older</a>}
      </nav>
      <p class="export">
        Export this view: <a href={exportQuery('ndjson')}>NDJSON</a> · <a href={exportQuery('csv')}>CSV</a>
      </p>
    </Layout>
  );
}
