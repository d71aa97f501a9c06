// A transcript's htmlBody, from visitors and agents alike, cut down to an allowlist of harmless tags before it is shown
// (in a sandboxed frame, under a sandbox CSP: sanitising is the first of three walls, not the only one).
import sanitizeHtml from 'sanitize-html';

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'b', 'strong', 'i', 'em', 'u', 's', 'span', 'div', 'ul', 'ol', 'li', 'blockquote', 'pre', 'code', 'a', 'h1', 'h2', 'h3', 'h4', 'hr'],
  allowedAttributes: { a: ['href', 'rel'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  // Contents of these go with them (the default drops script and style text, this adds the rest that can run).
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'embed', 'template'],
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer' }) },
};

export function sanitisedDocument(htmlBody: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Transcript</title></head><body>${sanitizeHtml(htmlBody, OPTIONS)}</body></html>`;
}
