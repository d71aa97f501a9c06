import { describe, expect, it } from 'vitest';
import { createDispatchApp, payload, type DispatchApp } from '../helpers/dispatch.js';
import { freePort } from '../helpers/server.js';
import { smtpFailure } from '../../src/dispatch/handlers/email.js';
import { SMTP_PASSWORD, SMTP_USER, startSmtp, type SmtpMode, type SmtpSink } from '../helpers/smtp.js';
import { createServer, type Socket } from 'node:net';
import { cleanupAfterEach } from '../helpers/cleanup.js';

const cleanups = cleanupAfterEach();

async function smtp(answerData?: SmtpSink['answerData'], mode?: SmtpMode): Promise<SmtpSink> {
  const started = await startSmtp(answerData, mode);
  cleanups.push(started.close);
  return started;
}

async function relay(options: Record<string, unknown>, handler: Record<string, unknown> = {}): Promise<DispatchApp> {
  const app = await createDispatchApp({
    retry: { schedule: ['50ms', '50ms'], jitter: 0 },
    handlers: [{ name: 'mail', type: 'email', events: ['transcript', 'offline-message'], options, ...handler }],
  });
  cleanups.push(app.close);
  return app;
}

/** Options for the local server, trusting its self-signed certificate through tls.caFile. */
const trusted = (server: SmtpSink, extra: Record<string, unknown> = {}) => ({
  host: '127.0.0.1',
  port: server.port,
  user: SMTP_USER,
  password: SMTP_PASSWORD,
  tls: { caFile: server.caFile },
  from: 'chat@acme.test',
  to: ['lead@acme.test', 'ops@acme.test'],
  ...extra,
});

const HOSTILE_HTML =
  '<p>Hi <b>there</b></p><script>alert(1)</script><img src="https://tracker.test/x.gif" onerror="alert(2)">' +
  '<a href="javascript:alert(3)">bad link</a> <a href="https://acme.test/help" onclick="alert(4)">help</a><style>p{}</style>';

describe('email handler', () => {
  it('logs in after STARTTLS and mails every address, Reply-To the visitor, with the transcript HTML sanitised', async () => {
    const server = await smtp();
    const app = await relay(trusted(server, { fromName: 'Chat relay' }));
    const id = await app.post('transcript', payload('transcript', { visitorEmail: 'vic@example.test', htmlBody: HOSTILE_HTML }));
    const [delivery] = await app.settled(id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1 });
    const [mail] = server.mails;
    expect(mail).toMatchObject({ secure: true, user: SMTP_USER, mailFrom: 'chat@acme.test', envelopeTo: ['lead@acme.test', 'ops@acme.test'] });
    const parsed = mail!.parsed;
    expect(parsed.subject).toBe('Chat with costa-mesa-california-us-133 ended 👍');
    expect(parsed.from?.value).toEqual([{ address: 'chat@acme.test', name: 'Chat relay' }]);
    expect(parsed.replyTo?.value).toEqual([{ address: 'vic@example.test', name: '' }]);
    expect(parsed.text).toContain('answered by Some One');
    expect(parsed.text).toContain('<Text output of transcript will be in here');
    expect(parsed.messageId).toBe(`<${delivery!.id}@acme.test>`);
    expect(delivery!.externalId).toBe(`<${delivery!.id}@acme.test>`);
    expect(parsed.headers.get('x-chatlio-event-id')).toBe(id);
    const html = String(parsed.html);
    expect(html).toContain('<p>Hi <b>there</b></p>');
    expect(html).toContain('<a href="https://acme.test/help">help</a>');
    for (const gone of ['<script', 'alert(', '<img', 'javascript:', 'onclick', '<style']) expect(html).not.toContain(gone);
  });

  it("never sets Reply-To to Chatlio's no-reply address when the visitor left no email", async () => {
    const server = await smtp();
    const app = await relay(trusted(server));
    // Chatlio's own sample: visitorEmail "", replyToEmail no-reply@chatlio.com.
    await app.settled(await app.post('transcript', payload('transcript')));
    const parsed = server.mails[0]!.parsed;
    expect(parsed.replyTo).toBeUndefined();
    expect(server.mails[0]!.raw).not.toMatch(/no-reply@chatlio\.com/i);
  });

  it('cannot be made to add headers or recipients by visitor data with line breaks', async () => {
    const server = await smtp();
    const app = await relay(trusted(server, { to: 'lead@acme.test', subject: '{{{subject}}} from {{{who}}}' }));
    const hostile = payload('offline-message', {
      subject: 'Hello\r\nBcc: evil@attacker.test',
      name: 'Ann\r\nX-Injected: yes',
      email: 'ann@example.test\r\nBcc: evil2@attacker.test',
      visitor: { handle: 'x', name: 'Ann\nCc: evil3@attacker.test', email: 'ann@example.test, evil4@attacker.test' },
    });
    await app.settled(await app.post('offline-message', hostile));
    const [mail] = server.mails;
    expect(mail!.envelopeTo).toEqual(['lead@acme.test']);
    const headerNames = [...mail!.parsed.headers.keys()];
    expect(headerNames).not.toContain('bcc');
    expect(headerNames).not.toContain('cc');
    expect(headerNames).not.toContain('x-injected');
    // No usable visitor address, so no Reply-To at all rather than a forged one.
    expect(mail!.parsed.replyTo).toBeUndefined();
    expect(mail!.parsed.subject).toBe('Hello Bcc: evil@attacker.test from Ann X-Injected: yes');
  });

  it('renders the subject and text templates, one for every type or one per type', async () => {
    const server = await smtp();
    const app = await relay(
      trusted(server, {
        subject: { transcript: 'Transcript: {{who}} {{thumb}}', 'offline-message': 'Offline: {{subject}}' },
        text: 'From {{who}}{{#visitor.email}} <{{visitor.email}}>{{/visitor.email}}\n---\n{{message}}',
        html: false,
      }),
    );
    await app.settled(await app.post('offline-message', payload('offline-message', { subject: 'Refund', name: 'Ann', email: 'ann@example.test', message: 'Where is my refund?' })));
    await app.settled(await app.post('transcript', payload('transcript')));
    const [offline, transcript] = server.mails.map((mail) => mail.parsed);
    expect(offline!.subject).toBe('Offline: Refund');
    expect(offline!.text).toBe('From Ann <ann@example.test>\n---\nWhere is my refund?\n');
    expect(transcript!.subject).toBe('Transcript: costa-mesa-california-us-133 👍');
    expect(transcript!.text).toMatch(/^From costa-mesa-california-us-133\n---\n/);
    // html: false leaves the transcript's HTML out.
    expect(transcript!.html).toBe(false);
  });

  it('retries a 4xx reply and succeeds on the next attempt', async () => {
    const server = await smtp((index) => (index === 0 ? { code: 451, message: 'Try again later' } : undefined));
    const app = await relay(trusted(server));
    const [delivery] = await app.settled(await app.post('transcript', payload('transcript')));
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect((await app.ctx.storage.attempts(delivery!.seq))[0]!.error).toContain('451');
    expect(server.mails).toHaveLength(1);
  });

  it('makes a 5xx reply dead at once', async () => {
    const server = await smtp(() => ({ code: 554, message: 'Message rejected as spam' }));
    const app = await relay(trusted(server));
    const [delivery] = await app.settled(await app.post('transcript', payload('transcript')));
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1 });
    expect(delivery!.lastError).toContain('554');
  });

  it('makes a refused login dead at once, without the password in the error', async () => {
    const server = await smtp();
    const app = await relay(trusted(server, { password: 'wrong-password' }));
    const [delivery] = await app.settled(await app.post('transcript', payload('transcript')));
    expect(server.refusedLogins).toBe(1);
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1 });
    expect(delivery!.lastError).toMatch(/EAUTH 535/);
    expect(delivery!.lastError).not.toContain('wrong-password');
  });

  it('retries when the server cannot be reached', async () => {
    const port = await freePort();
    const app = await relay({ host: '127.0.0.1', port, from: 'chat@acme.test', to: 'lead@acme.test', requireTLS: false });
    const [delivery] = await app.settled(await app.post('transcript', payload('transcript')));
    expect(delivery).toMatchObject({ status: 'dead', attempts: 3 });
    expect(delivery!.lastError).toMatch(/ECONNECTION|ECONNREFUSED/);
  });

  it('refuses a certificate it was not told to trust, and accepts it with rejectUnauthorized: false', async () => {
    const server = await smtp();
    const untrusted = await relay(trusted(server, { tls: undefined }));
    const [refused] = await untrusted.settled(await untrusted.post('transcript', payload('transcript')));
    expect(refused).toMatchObject({ status: 'dead', attempts: 3 });
    expect(refused!.lastError).toMatch(/certificate/i);
    expect(server.mails).toHaveLength(0);
    const lax = await relay(trusted(server, { tls: { rejectUnauthorized: false } }));
    const [sent] = await lax.settled(await lax.post('transcript', payload('transcript')));
    expect(sent).toMatchObject({ status: 'succeeded' });
    expect(server.mails).toHaveLength(1);
  });

  it('sends over TLS from the first byte with secure: true', async () => {
    const server = await smtp(undefined, { implicitTls: true });
    const app = await relay(trusted(server, { secure: true }));
    const [delivery] = await app.settled(await app.post('transcript', payload('transcript')));
    expect(delivery).toMatchObject({ status: 'succeeded' });
    expect(server.mails[0]).toMatchObject({ secure: true, user: SMTP_USER });
  });

  it('will not log in or send in clear text to a server that offers no STARTTLS', async () => {
    const server = await smtp(undefined, { noStartTls: true });
    const app = await relay(trusted(server));
    const [delivery] = await app.settled(await app.post('transcript', payload('transcript')));
    // The server refuses STARTTLS with a 5xx: that will not change on a retry.
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1 });
    expect(delivery!.lastError).toMatch(/STARTTLS/i);
    expect(server.mails).toHaveLength(0);
    // Only when told it may (a relay on the same host) does it send without TLS.
    const local = await relay(trusted(server, { requireTLS: false }));
    await local.settled(await local.post('transcript', payload('transcript')));
    expect(server.mails[0]).toMatchObject({ secure: false });
  });

  it('gives up an attempt when the server says nothing within the handler timeout, and retries', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const app = await relay({ host: '127.0.0.1', port, from: 'chat@acme.test', to: 'lead@acme.test' }, { timeout: '300ms' });
    const [delivery] = await app.settled(await app.post('transcript', payload('transcript')));
    expect(delivery).toMatchObject({ status: 'dead', attempts: 3 });
    expect(sockets.length).toBe(3);
  });
});

describe('defect 1 in email: long header text and SMTP errors are cut on whole characters', () => {
  // One of each parity, so a cut after any number of UTF-16 units lands inside an emoji of one of them.
  const EMOJI_TEXTS = [['😀'.repeat(700)], [`a${'😀'.repeat(700)}`]];

  it.each(EMOJI_TEXTS)('never sends a subject ending in half an emoji (U+FFFD once encoded)', async (subject) => {
    const server = await smtp();
    const app = await relay(trusted(server, { subject: '{{subject}}' }));
    await app.settled(await app.post('offline-message', payload('offline-message', { subject }, 'with-subject')));
    const sent = String(server.mails[0]!.parsed.subject);
    expect(sent).not.toContain('\uFFFD');
    expect(sent).toMatch(/😀…$/);
  });

  it.each(EMOJI_TEXTS)("keeps an SMTP server's long reply in the attempt's error on whole characters", (reply) => {
    const error = Object.assign(new Error('Message failed'), { code: 'EMESSAGE', responseCode: 550, response: reply });
    const result = smtpFailure(error);
    expect(result.error).not.toMatch(/\p{Cs}/u);
    expect(result.error).toMatch(/😀…$/);
  });
});
