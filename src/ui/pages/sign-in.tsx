// Sign-in: the API token, once, in exchange for a 12-hour session cookie.
import { Layout } from '../layout.js';
import { Notice } from '../components.js';

export function SignInPage({ next, error }: { next: string; error?: string }) {
  return (
    <Layout title="Sign in" nav="none">
      <div class="sign-in">
        <h1>chatlio-relay inbox</h1>
        {error && <Notice kind="error">{error}</Notice>}
        <form method="post" action="/ui/sign-in">
          <input type="hidden" name="next" value={next} />
          <div class="field">
            <label for="token">API token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
          </div>
          <p class="hint">The token in <code>DATA_DIR/api-token</code> (or <code>API_TOKEN</code>). Signing in lasts 12 hours.</p>
          <button type="submit">Sign in</button>
        </form>
      </div>
    </Layout>
  );
}
