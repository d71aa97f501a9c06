// Security headers on every web inbox response: a strict CSP (no inline script or style anywhere) and friends.
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * For the sanitised htmlBody only: a unique origin with no script, no forms, no plugins, even if something slipped
 * through sanitising; framed by our own pages alone.
 */
export const HTML_BODY_CSP = "sandbox; default-src 'none'; frame-ancestors 'self'";

export const COMMON_HEADERS: Record<string, string> = {
  // same-origin keeps the Referer (with its query of filters) in the app, and makes form posts carry an Origin.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};
