// The visitor's email as a handler may use it (a Zendesk requester, an email's Reply-To): never Chatlio's no-reply address.
import type { DispatchEvent } from './handler.js';
import { payloadVisitor } from './template.js';

// One address and nothing else: no spaces, line breaks, commas, quotes or angle brackets that could add a header or a recipient.
const ADDRESS = /^[^\s@<>",;:()[\]\\]+@[^\s@<>",;:()[\]\\]+\.[^\s@<>",;:()[\]\\]+$/;
// Chatlio fills replyToEmail with its own no-reply address when it knows no visitor email. A no-reply address, or any
// address of Chatlio's, is nobody to answer.
const NOT_A_VISITOR = /^(no-?reply|do-?not-?reply)(\+[^@]*)?@|@([a-z0-9-]+\.)*chatlio\.com$/i;

/** Whether `address` is one address a person behind the chat may read. */
export function isVisitorAddress(address: string): boolean {
  return ADDRESS.test(address) && !NOT_A_VISITOR.test(address);
}

/** The visitor's email when the event carries a usable one: the payload's own, then the visitor's, then (transcripts) replyToEmail. */
export function visitorEmail(event: DispatchEvent): string | undefined {
  const payload = event.payload;
  const visitor = payloadVisitor(payload);
  const candidates =
    event.type === 'transcript'
      ? [payload.visitorEmail, event.visitor.email, visitor.email, payload.replyToEmail]
      : [payload.email, event.visitor.email, visitor.email];
  for (const candidate of candidates) {
    const address = typeof candidate === 'string' ? candidate.trim() : '';
    if (isVisitorAddress(address)) return address;
  }
  return undefined;
}
