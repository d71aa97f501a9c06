// One chat as a conversation: the messages (visitor on one side, agents on the other), every event of the chat in
// order, and a panel about the visitor with their earlier chats.
import type { EventRow } from '../../store/storage.js';
import { Layout } from '../layout.js';
import { RatingBadge, Time, VisitorLink } from '../components.js';
import type { ChatMessage, VisitorDetails } from '../payload.js';

export type EarlierChat = { conversationUUID: string; receivedAt: number; summary: string };

export type ConversationProps = {
  csrfToken: string;
  uuid: string;
  events: Array<{ row: EventRow; summary: string }>;
  messages: ChatMessage[];
  visitor: VisitorDetails;
  rating: 'up' | 'down' | null;
  earlier: EarlierChat[];
};

function Bubble({ message }: { message: ChatMessage }) {
  return (
    <li class={message.visitor ? 'msg msg-visitor' : 'msg msg-agent'}>
      <div class="msg-head">
        <span class="msg-from">{message.from}</span> <Time at={message.at} />
      </div>
      <p class="msg-text">{message.text}</p>
    </li>
  );
}

function VisitorPanel({ visitor, earlier }: { visitor: VisitorDetails; earlier: EarlierChat[] }) {
  const key = visitor.email ?? visitor.uuid;
  return (
    <aside class="panel" aria-labelledby="visitor-title">
      <h2 id="visitor-title">Visitor</h2>
      <dl class="facts">
        <dt>Name</dt>
        <dd>{visitor.name ?? '—'}</dd>
        <dt>Email</dt>
        <dd>{visitor.email ?? '—'}</dd>
        <dt>Page</dt>
        <dd><VisitorLink url={visitor.currentPage} /></dd>
        <dt>Came from</dt>
        <dd><VisitorLink url={visitor.referrer} /></dd>
        <dt>Location</dt>
        <dd>{visitor.location ?? '—'}</dd>
        <dt>Browser</dt>
        <dd class="break">{visitor.userAgent ?? '—'}</dd>
        <dt>UUID</dt>
        <dd class="break">{visitor.uuid ?? '—'}</dd>
      </dl>
      <h3>Earlier chats</h3>
      {earlier.length === 0 ? (
        <p class="muted">None stored.</p>
      ) : (
        <ul class="earlier">
          {earlier.map((chat) => (
            <li key={chat.conversationUUID}>
              <a href={`/ui/conversations/${encodeURIComponent(chat.conversationUUID)}`}>{chat.summary}</a> <Time at={chat.receivedAt} />
            </li>
          ))}
        </ul>
      )}
      {key && (
        <p>
          <a href={`/ui/visitors/erase?key=${encodeURIComponent(key)}`}>Erase this visitor…</a>
        </p>
      )}
    </aside>
  );
}

export function ConversationPage({ csrfToken, uuid, events, messages, visitor, rating, earlier }: ConversationProps) {
  return (
    <Layout title="Conversation" nav="inbox" csrfToken={csrfToken}>
      <h1>
        Conversation with {visitor.name ?? visitor.email ?? 'an anonymous visitor'} <RatingBadge rating={rating} />
      </h1>
      <p class="muted break">{uuid}</p>
      <div class="split">
        <div>
          <section aria-labelledby="messages-title">
            <h2 id="messages-title">Messages</h2>
            {messages.length === 0 ? (
              <p class="muted">No transcript yet: Chatlio sends it when the chat ends.</p>
            ) : (
              <ol class="chat">
                {messages.map((message, index) => (
                  <Bubble message={message} key={index} />
                ))}
              </ol>
            )}
          </section>
          <section aria-labelledby="events-title">
            <h2 id="events-title">Events</h2>
            <ol class="timeline" data-rows>
              {events.map(({ row, summary }) => (
                <li key={row.id} data-row>
                  <span class={`type type-${row.type}`}>{row.type}</span>{' '}
                  <a href={`/ui/events/${row.id}`} data-open>
                    {summary}
                  </a>{' '}
                  <Time at={row.receivedAt} />
                </li>
              ))}
            </ol>
          </section>
        </div>
        <VisitorPanel visitor={visitor} earlier={earlier} />
      </div>
    </Layout>
  );
}
