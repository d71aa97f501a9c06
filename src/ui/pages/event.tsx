// One event: the payload readably, its exact bytes, and every delivery with its attempt log, with redelivery buttons.
import type { Attempt, Delivery, EventRow } from '../../store/storage.js';
import { cutText } from '../../text.js';
import { Layout } from '../layout.js';
import { Notice, PostForm, RatingBadge, StatusBadge, Time, Scroll } from '../components.js';
import type { EventView } from '../payload.js';

export type EventProps = {
  csrfToken: string;
  row: EventRow;
  view: EventView;
  deliveries: Array<{ delivery: Delivery; attempts: Attempt[] }>;
  /** Handlers configured now that have no delivery for this event (a redelivery to one of them creates it). */
  otherHandlers: string[];
  notice?: string;
};

/** A field's value as text: strings as they are, anything else as indented JSON. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function PayloadFields({ payload }: { payload: Record<string, unknown> }) {
  const fields = Object.entries(payload).filter(([name, value]) => name !== 'messages' && name !== 'htmlBody' && value !== '' && value !== null);
  return (
    <dl class="facts payload">
      {fields.map(([name, value]) => [
        <dt key={`${name}-t`}>{name}</dt>,
        <dd key={`${name}-d`}>{typeof value === 'object' ? <pre>{asText(value)}</pre> : asText(value)}</dd>,
      ])}
    </dl>
  );
}

/** The stored response is up to 4,096 characters; the page shows the start of it. */
const ATTEMPT_EXCERPT_CHARS = 1000;

function AttemptLog({ attempts }: { attempts: Attempt[] }) {
  if (attempts.length === 0) return <p class="muted">No attempt yet.</p>;
  return (
    <Scroll label="Attempts">
      <table class="attempts">
        <caption class="visually-hidden">Attempts</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Outcome</th>
            <th scope="col">Status</th>
            <th scope="col">Error / response</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((attempt) => (
            <tr key={attempt.attempt}>
              <td>{attempt.attempt}</td>
              <td><Time at={attempt.startedAt} /></td>
              <td>{attempt.durationMs === null ? '—' : `${attempt.durationMs} ms`}</td>
              <td>{attempt.outcome ?? 'running'}</td>
              <td>{attempt.statusCode ?? '—'}</td>
              <td class="break">
                {attempt.error && <p class="error-text">{attempt.error}</p>}
                {attempt.response && <pre class="excerpt">{cutText(attempt.response, ATTEMPT_EXCERPT_CHARS)}</pre>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
  );
}

export function EventPage({ csrfToken, row, view, deliveries, otherHandlers, notice }: EventProps) {
  const redeliver = `/ui/events/${row.id}/redeliver`;
  return (
    <Layout title={`Event ${row.id}`} nav="inbox" csrfToken={csrfToken}>
      <h1>
        <span class={`type type-${row.type}`}>{row.type}</span> {view.summary}
      </h1>
      {notice && <Notice>{notice}</Notice>}
      <dl class="facts">
        <dt>Id</dt>
        <dd>{row.id}</dd>
        <dt>Received</dt>
        <dd><Time at={row.receivedAt} /></dd>
        {row.conversationUUID && [
          <dt key="c-t">Conversation</dt>,
          <dd key="c-d"><a href={`/ui/conversations/${encodeURIComponent(row.conversationUUID)}`}>{row.conversationUUID}</a></dd>,
        ]}
        {row.rating && [<dt key="r-t">Rating</dt>, <dd key="r-d"><RatingBadge rating={row.rating} /></dd>]}
        {view.tags.length > 0 && [<dt key="t-t">Tags</dt>, <dd key="t-d">{view.tags.map((tag) => `#${tag}`).join(' ')}</dd>]}
      </dl>

      <section aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Deliveries</h2>
        {deliveries.length === 0 && <p class="muted">No handler took this event.</p>}
        {deliveries.length > 0 && (
          <PostForm action={redeliver} csrfToken={csrfToken} class="inline">
            <button type="submit">Redeliver to all handlers</button>
          </PostForm>
        )}
        {deliveries.map(({ delivery, attempts }) => (
          <article class="delivery" key={delivery.id} aria-labelledby={`d-${delivery.id}`}>
            <h3 id={`d-${delivery.id}`}>
              {delivery.handler} <StatusBadge status={delivery.status} />
            </h3>
            <p class="muted">
              {delivery.attempts} attempt{delivery.attempts === 1 ? '' : 's'}
              {delivery.dueAt !== null && (delivery.status === 'pending' || delivery.status === 'failed') && (
                <span>, next <Time at={delivery.dueAt} /></span>
              )}
              {delivery.externalId && <span>, created {delivery.externalId}</span>}
              {delivery.cancelledBy && <span>, cancelled by {delivery.cancelledBy}</span>}
            </p>
            <AttemptLog attempts={attempts} />
            <PostForm action={redeliver} csrfToken={csrfToken} class="inline">
              <input type="hidden" name="handler" value={delivery.handler} />
              <button type="submit" disabled={delivery.status === 'running'}>
                Redeliver to {delivery.handler}
              </button>
            </PostForm>
          </article>
        ))}
        {otherHandlers.length > 0 && (
          <PostForm action={redeliver} csrfToken={csrfToken} class="inline">
            <label for="other-handler">Deliver to another handler</label>{' '}
            <select id="other-handler" name="handler">
              {otherHandlers.map((name) => (
                <option value={name} key={name}>{name}</option>
              ))}
            </select>{' '}
            <button type="submit">Deliver</button>
          </PostForm>
        )}
      </section>

      {view.messages.length > 0 && (
        <section aria-labelledby="messages-title">
          <h2 id="messages-title">Messages</h2>
          <ol class="chat">
            {view.messages.map((message, index) => (
              <li class={message.visitor ? 'msg msg-visitor' : 'msg msg-agent'} key={index}>
                <div class="msg-head">
                  <span class="msg-from">{message.from}</span> <Time at={message.at} />
                </div>
                <p class="msg-text">{message.text}</p>
              </li>
            ))}
          </ol>
        </section>
      )}

      <section aria-labelledby="payload-title">
        <h2 id="payload-title">Payload</h2>
        <PayloadFields payload={view.payload} />
      </section>

      {view.hasHtmlBody && (
        <section aria-labelledby="html-title">
          <h2 id="html-title">HTML body (sanitised)</h2>
          <iframe class="html-body" sandbox="" src={`/ui/events/${row.id}/html`} title="The transcript's HTML body, sanitised" />
        </section>
      )}

      <section aria-labelledby="raw-title">
        <h2 id="raw-title">Raw bytes</h2>
        <p>
          <a href={`/ui/events/${row.id}/raw`}>Download as received</a> ({row.raw.length} bytes)
        </p>
        <pre class="raw" tabIndex={0}>{row.raw.toString('utf8')}</pre>
      </section>
    </Layout>
  );
}
