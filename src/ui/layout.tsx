// The frame around every page: head with the one stylesheet and the one script, navigation, sign-out, keyboard help.
import type { ComponentChildren } from 'preact';

export type Nav = 'inbox' | 'deliveries' | 'rejections' | 'stats' | 'erase' | 'none';

export type LayoutProps = {
  title: string;
  nav: Nav;
  /** Present when signed in: the sign-out form posts it. */
  csrfToken?: string;
  children: ComponentChildren;
};

export const ASSET_VERSION = '1';

const NAV_ITEMS: Array<{ key: Nav; href: string; label: string }> = [
  { key: 'inbox', href: '/ui', label: 'Inbox' },
  { key: 'deliveries', href: '/ui/deliveries', label: 'Failed deliveries' },
  { key: 'rejections', href: '/ui/rejections', label: 'Rejections' },
  { key: 'stats', href: '/ui/stats', label: 'Stats' },
  { key: 'erase', href: '/ui/visitors/erase', label: 'Erase a visitor' },
];

export function Layout({ title, nav, csrfToken, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${title} · chatlio-relay`}</title>
        {/* No favicon request (and no 404 for it): an empty one inline. */}
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={`/ui/assets/app.css?v=${ASSET_VERSION}`} />
        <script type="module" src={`/ui/assets/app.js?v=${ASSET_VERSION}`} />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        {csrfToken !== undefined && (
          <header class="top">
            <nav aria-label="Main">
              <ul>
                {NAV_ITEMS.map((item) => (
                  <li key={item.key}>
                    <a href={item.href} aria-current={item.key === nav ? 'page' : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            <form method="post" action="/ui/sign-out" class="sign-out">
              <input type="hidden" name="csrf" value={csrfToken} />
              <button type="submit">Sign out</button>
              <button type="submit" name="everywhere" value="1">Sign out everywhere</button>
            </form>
          </header>
        )}
        <main id="main" tabIndex={-1}>
          {children}
        </main>
        {csrfToken !== undefined && (
          <dialog id="help" aria-labelledby="help-title">
            <h2 id="help-title">Keyboard</h2>
            <dl class="keys">
              <dt><kbd>j</kbd> / <kbd>k</kbd></dt>
              <dd>next / previous row</dd>
              <dt><kbd>Enter</kbd></dt>
              <dd>open the selected row</dd>
              <dt><kbd>/</kbd></dt>
              <dd>search</dd>
              <dt><kbd>?</kbd></dt>
              <dd>this help</dd>
            </dl>
            <form method="dialog">
              <button type="submit">Close</button>
            </form>
          </dialog>
        )}
      </body>
    </html>
  );
}
