// Erasure of a visitor (privacy requests): the visitor is named, what will go is shown, and the key must be typed again.
import { Layout } from '../layout.js';
import { Notice, PostForm } from '../components.js';

export type EraseProps = {
  csrfToken: string;
  key: string;
  /** Events stored for the key (at least), when a key was given. */
  events?: number;
  error?: string;
  notice?: string;
};

export function ErasePage({ csrfToken, key, events, error, notice }: EraseProps) {
  return (
    <Layout title="Erase a visitor" nav="erase" csrfToken={csrfToken}>
      <h1>Erase a visitor</h1>
      {notice && <Notice>{notice}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      <p>
        Removes every event of the visitor (by email or visitor UUID, with the identifiers seen beside it), their deliveries and full-text rows, and the
        rejected bodies that mention them. This cannot be undone.
      </p>
      <form method="get" action="/ui/visitors/erase" class="filters">
        <div class="field wide">
          <label for="key">Visitor email or UUID</label>
          <input id="key" name="key" value={key} required />
        </div>
        <div class="actions">
          <button type="submit">Look up</button>
        </div>
      </form>
      {key && events !== undefined && (
        <section aria-labelledby="confirm-title">
          <h2 id="confirm-title">Confirm</h2>
          <p>
            {events === 0 ? 'No stored event names this visitor directly' : `${events}${events >= 1000 ? '+' : ''} stored event${events === 1 ? '' : 's'} name this visitor`}
            ; events linked through other identifiers go too. <a href={`/ui?visitor=${encodeURIComponent(key)}`}>See them in the inbox</a>.
          </p>
          <PostForm action="/ui/visitors/erase" csrfToken={csrfToken}>
            <input type="hidden" name="key" value={key} />
            <div class="field">
              <label for="confirm">Type the email or UUID again to confirm</label>
              <input id="confirm" name="confirm" required autocomplete="off" />
            </div>
            <button type="submit" class="danger">Erase everything about this visitor</button>
          </PostForm>
        </section>
      )}
    </Layout>
  );
}
