// Rejections: bodies refused with 422, their errors field by field, and Replay once the schema accepts them.
import type { FieldError, RejectionRow } from '../../store/storage.js';
import { Layout } from '../layout.js';
import { Notice, PostForm, Time, Scroll } from '../components.js';

export function RejectionsPage({ csrfToken, rows, next, paged, notice }: { csrfToken: string; rows: RejectionRow[]; next: number | null; paged: boolean; notice?: string }) {
  return (
    <Layout title="Rejections" nav="rejections" csrfToken={csrfToken}>
      <h1>Rejections</h1>
      {notice && <Notice>{notice}</Notice>}
      <p class="muted">Bodies that did not pass validation (answered 422). Replay one once the schema accepts it.</p>
      {rows.length === 0 ? (
        <p class="empty">No rejections{paged ? ' older than these' : ''}.</p>
      ) : (
        <ol class="events" data-rows>
          {rows.map((row) => (
            <li class="event" data-row key={row.id}>
              <div class="event-head">
                <span class={`type type-${row.type}`}>{row.type}</span>
                <a class="event-link" href={`/ui/rejections/${row.id}`} data-open>
                  Rejection {row.id}
                </a>
                <Time at={row.receivedAt} />
              </div>
              <p class="summary">{row.errors.map((error) => `${error.path || '(body)'}: ${error.message}`).join('; ')}</p>
            </li>
          ))}
        </ol>
      )}
      <nav class="pager" aria-label="Pages">
        {paged && <a href="/ui/rejections">Newest</a>}
        {next !== null && <a rel="next" href={`/ui/rejections?before=${next}`}>Older</a>}
      </nav>
    </Layout>
  );
}

export function RejectionPage({ csrfToken, row, errors, notice }: { csrfToken: string; row: RejectionRow; errors?: FieldError[]; notice?: string }) {
  return (
    <Layout title={`Rejection ${row.id}`} nav="rejections" csrfToken={csrfToken}>
      <h1>
        Rejected <span class={`type type-${row.type}`}>{row.type}</span> body {row.id}
      </h1>
      {notice && <Notice kind="error">{notice}</Notice>}
      <p>
        Received <Time at={row.receivedAt} />, {row.raw.length} bytes.
      </p>
      <h2>Errors</h2>
      <Scroll label="Errors by field">
        <table>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {(errors ?? row.errors).map((error, index) => (
              <tr key={index}>
                <td><code>{error.path || '(the whole body)'}</code></td>
                <td>{error.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <PostForm action={`/ui/rejections/${row.id}/replay`} csrfToken={csrfToken} class="inline">
        <button type="submit">Replay</button>
      </PostForm>
      <h2>Body as received</h2>
      <pre class="raw" tabIndex={0}>{row.raw.toString('utf8')}</pre>
    </Layout>
  );
}
