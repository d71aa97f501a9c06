// Defect 2 (issue 12): Chatlio's own no-reply address became the Zendesk requester. One rule for every handler that
// writes to the visitor (Zendesk requester, email Reply-To).
import { describe, expect, it } from 'vitest';
import { isVisitorAddress } from '../../src/dispatch/visitor-email.js';

describe("defect 2: Chatlio's no-reply address is never the visitor's", () => {
  it.each(['no-reply@chatlio.com', 'noreply@chatlio.com', 'NO-REPLY@Chatlio.com', 'no-reply+abc@mail.chatlio.com', 'do-not-reply@chatlio.com', 'support@chatlio.com', 'noreply@shop.example'])(
    'refuses %s',
    (address) => expect(isVisitorAddress(address)).toBe(false),
  );

  it.each(['jane@example.com', 'replying@example.com', 'jane@notchatlio.com'])('accepts %s', (address) => expect(isVisitorAddress(address)).toBe(true));

  it.each(['', 'jane', 'jane@localhost', 'jane@example.com, eve@example.com', 'Jane <jane@example.com>', 'jane@example.com\r\nBcc: eve@example.com'])(
    'refuses %j, which is not one address',
    (address) => expect(isVisitorAddress(address)).toBe(false),
  );
});
