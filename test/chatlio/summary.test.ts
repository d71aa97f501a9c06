import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/chatlio/summary.js';
import type { Payload } from '../../src/chatlio/index.js';

describe('summary', () => {
  it('defect 1: cuts a long quoted subject on a whole emoji, never leaving U+FFFD', () => {
    // The emoji sits at 78–79: the old slice(0, 79) kept its first half.
    const payload = { name: 'Bob', email: '', subject: `${'x'.repeat(78)}😀 and the rest`, message: 'hi' } as unknown as Payload;
    expect(summarize('offline-message', payload)).toBe(`Offline message from Bob: "${'x'.repeat(78)}…"`);
  });

  it('defect 1: cuts the whole line to 160 characters on a whole character', () => {
    const payload = { visitor: { name: `${'n'.repeat(158)}👨‍👩‍👧`, email: '' }, message: 'hi' } as unknown as Payload;
    expect(summarize('conversation-started', payload)).toBe(`${'n'.repeat(158)}…`);
  });
});
