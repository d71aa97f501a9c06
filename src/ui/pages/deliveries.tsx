// Failed deliveries: the backlog by handler, the deliveries in a status, and bulk redelivery behind a confirmation.
import { DELIVERY_STATUSES, type Delivery, type DeliveryStatus } from '../../store/storage.js';
import { Layout } from '../layout.js';
import { Notice, PostForm, SelectField, StatusBadge, Time, Scroll } from '../components.js';
import { REDELIVERABLE, type Redeliverable } from '../bulk.js';

export type HandlerCounts = Array<{ handler: string; counts: Partial<Record<DeliveryStatus, number>> }>;

export type DeliveriesProps = {
  csrfToken: string;
  status: DeliveryStatus;
  handler: string;
  handlers: string[];
  byHandler: HandlerCounts;
  rows: Array<{ delivery: Delivery; summary: string }>;
  next: number | null;
  paged: boolean;
  notice?: string;
};

const SHOWN: DeliveryStatus[] = ['dead', 'failed', 'pending', 'running'];

const query = (params: Record<string, string>) => {
  const search = new URLSearchParams(Object.entries(params).filter(([, value]) => value !== '')).toString();
  return search ? `?${search}` : '';
};

export function DeliveriesPage({ csrfToken, status, handler, handlers, byHandler, rows, next, paged, notice }: DeliveriesProps) {
  const redeliverable = (REDELIVERABLE as readonly string[]).includes(status);
  return (
    <Layout title="Failed deliveries" nav="deliveries" csrfToken={csrfToken}>
      <h1>Failed deliveries</h1>
      {notice && <Notice>{notice}</Notice>}
      <section aria-labelledby="by-handler-title">
        <h2 id="by-handler-title">By handler</h2>
        {byHandler.length === 0 ? (
          <p class="muted">Nothing dead or waiting.</p>
        ) : (
          <Scroll label="Deliveries by handler">
            <table>
              <thead>
                <tr>
                  <th scope="col">Handler</th>
                  {SHOWN.map((name) => (
                    <th scope="col" key={name}>{name}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {byHandler.map((row) => (
                  <tr key={row.handler}>
                    <th scope="row">{row.handler}</th>
                    {SHOWN.map((name) => (
                      <td key={name}>
                        {row.counts[name] ? <a href={`/ui/deliveries${query({ status: name, handler: row.handler })}`}>{row.counts[name]}</a> : '0'}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        )}
      </section>

      <section aria-labelledby="list-title">
        <h2 id="list-title">Deliveries</h2>
        <form method="get" action="/ui/deliveries" class="filters">
          <SelectField name="status" label="Status" options={DELIVERY_STATUSES} value={status} />
          <SelectField name="handler" label="Handler" options={handlers} value={handler} any="all" />
          <div class="actions">
            <button type="submit">Show</button>
          </div>
        </form>
        {rows.length === 0 ? (
          <p class="empty">No {status} deliveries{handler ? ` for ${handler}` : ''}.</p>
        ) : (
          <ol class="events" data-rows>
            {rows.map(({ delivery, summary }) => (
              <li class="event" data-row key={delivery.id}>
                <div class="event-head">
                  <StatusBadge status={delivery.status} />
                  <span class="handler">{delivery.handler}</span>
                  {delivery.eventId === null ? summary : <a class="event-link" href={`/ui/events/${delivery.eventId}`} data-open>{summary}</a>}
                  <Time at={delivery.updatedAt} />
                </div>
                <p class="summary">
                  {delivery.attempts} attempt{delivery.attempts === 1 ? '' : 's'}
                  {delivery.lastStatusCode !== null && `, last status ${delivery.lastStatusCode}`}
                  {delivery.lastError && <span class="error-text">: {delivery.lastError}</span>}
                </p>
              </li>
            ))}
          </ol>
        )}
        <nav class="pager" aria-label="Pages">
          {paged && <a href={`/ui/deliveries${query({ status, handler })}`}>Newest</a>}
          {next !== null && <a rel="next" href={`/ui/deliveries${query({ status, handler, before: String(next) })}`}>Older</a>}
        </nav>
      </section>

      {redeliverable && (
        <section aria-labelledby="bulk-title">
          <h2 id="bulk-title">Redeliver all matching</h2>
          <form method="get" action="/ui/deliveries/redeliver" class="filters">
            <input type="hidden" name="status" value={status} />
            <input type="hidden" name="handler" value={handler} />
            <p class="wide">Every {status} delivery{handler ? ` of ${handler}` : ''}, optionally only for events received in a window (an outage):</p>
            <div class="field">
              <label for="bulk-from">Events from</label>
              <input id="bulk-from" name="from" type="datetime-local" />
            </div>
            <div class="field">
              <label for="bulk-to">until (UTC)</label>
              <input id="bulk-to" name="to" type="datetime-local" />
            </div>
            <div class="actions">
              <button type="submit">Count and confirm…</button>
            </div>
          </form>
        </section>
      )}
    </Layout>
  );
}

export type ConfirmBulkProps = {
  csrfToken: string;
  status: Redeliverable;
  handler: string;
  from: string;
  to: string;
  count: number;
  capped: boolean;
};

export function ConfirmBulkPage({ csrfToken, status, handler, from, to, count, capped }: ConfirmBulkProps) {
  const what = `${capped ? 'at least ' : ''}${count} ${status} deliver${count === 1 ? 'y' : 'ies'}${handler ? ` of ${handler}` : ''}`;
  const window = from || to ? ` for events received ${from ? `from ${from} ` : ''}${to ? `until ${to} ` : ''}(UTC)` : '';
  return (
    <Layout title="Confirm redelivery" nav="deliveries" csrfToken={csrfToken}>
      <h1>Redeliver {what}?</h1>
      <p>
        This puts {what}{window} back in the queue, due now. Attempts so far are kept.
      </p>
      {count === 0 ? (
        <p>
          Nothing to redeliver. <a href={`/ui/deliveries?status=${status}`}>Back</a>
        </p>
      ) : (
        <PostForm action="/ui/deliveries/redeliver" csrfToken={csrfToken}>
          <input type="hidden" name="status" value={status} />
          <input type="hidden" name="handler" value={handler} />
          <input type="hidden" name="from" value={from} />
          <input type="hidden" name="to" value={to} />
          <button type="submit" class="primary">
            Redeliver {count}
          </button>{' '}
          <a href={`/ui/deliveries?status=${status}`}>Cancel</a>
        </PostForm>
      )}
    </Layout>
  );
}
