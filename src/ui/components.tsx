// Small pieces the pages share: times, badges, links that are only links for http(s), notices, the problem page.
import type { ComponentChildren } from 'preact';
import type { DeliveryStatus } from '../store/storage.js';
import { safeHref } from './payload.js';
import { Layout } from './layout.js';

/** UTC, minute precision, readable at a glance; the full instant is in the datetime attribute. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function Time({ at }: { at: number | null }) {
  if (at === null || !Number.isFinite(at)) return <span class="muted">—</span>;
  return <time dateTime={new Date(at).toISOString()}>{formatTime(at)}</time>;
}

export function StatusBadge({ status }: { status: DeliveryStatus }) {
  return <span class={`badge status-${status}`}>{status}</span>;
}

export function RatingBadge({ rating }: { rating: 'up' | 'down' | null }) {
  if (rating === null) return null;
  return <span class={`badge rating-${rating}`}>{rating === 'up' ? 'rated up' : 'rated down'}</span>;
}

/** Visitor-supplied URLs: a link only for http(s), opened without giving the target our page. */
export function VisitorLink({ url }: { url: string | null }) {
  if (url === null) return <span class="muted">—</span>;
  const href = safeHref(url);
  if (href === null) return <span>{url}</span>;
  return (
    <a href={href} rel="noopener noreferrer" target="_blank">
      {url}
    </a>
  );
}

export function Notice({ children, kind = 'ok' }: { children: ComponentChildren; kind?: 'ok' | 'error' }) {
  return (
    <p class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}

/** A POST form carrying the session's CSRF token. */
export function PostForm({ action, csrfToken, children, class: className }: { action: string; csrfToken: string; children: ComponentChildren; class?: string }) {
  return (
    <form method="post" action={action} class={className}>
      <input type="hidden" name="csrf" value={csrfToken} />
      {children}
    </form>
  );
}

export function ProblemPage({ status, title, detail, csrfToken }: { status: number; title: string; detail: string; csrfToken?: string }) {
  return (
    <Layout title={title} nav="none" csrfToken={csrfToken}>
      <h1>{title}</h1>
      <p>{detail}</p>
      <p class="muted">HTTP {status}</p>
      <p>
        <a href="/ui">Back to the inbox</a>
      </p>
    </Layout>
  );
}

/** A table that may scroll sideways on a phone: focusable and named, so keyboard users can scroll it too. */
export function Scroll({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="scroll" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}

/**
 * A labelled filter select in a GET form: `any` (when given) is the empty choice that drops the filter; `value` the
 * choice the page was asked for.
 */
export function SelectField({ name, label, options, value, any }: { name: string; label: string; options: readonly string[]; value: string | undefined; any?: string }) {
  return (
    <div class="field">
      <label for={name}>{label}</label>
      <select id={name} name={name}>
        {any !== undefined && <option value="">{any}</option>}
        {options.map((option) => (
          <option value={option} selected={option === value} key={option}>
            {option}
          </option>
        ))}
      </select>
    </div>
  );
}
