// A local SMTP server standing in for a mail relay: STARTTLS with a certificate made for the test, AUTH checked, mail parsed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { generate } from 'selfsigned';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { tempDir } from './app.js';

export const SMTP_USER = 'relay@acme.test';
export const SMTP_PASSWORD = 'smtp-secret';

export type ReceivedMail = {
  /** RCPT TO, as the server was asked: who really gets the mail, whatever the headers say. */
  envelopeTo: string[];
  mailFrom: string;
  /** Whether the connection was TLS (upgraded with STARTTLS) when the mail was sent. */
  secure: boolean;
  user: string | undefined;
  raw: string;
  parsed: ParsedMail;
};

export type SmtpAnswer = { code: number; message: string } | undefined;

export type SmtpSink = {
  port: number;
  /** A PEM file holding the server's self-signed certificate, for the handler's tls.caFile. */
  caFile: string;
  mails: ReceivedMail[];
  /** Failed logins, to see that a wrong password reached the server. */
  refusedLogins: number;
  /** Decides the answer to DATA: undefined accepts, else the reply code and text. */
  answerData: (index: number) => SmtpAnswer;
  close: () => Promise<void>;
};

let certificate: Promise<{ key: string; cert: string }> | undefined;
/** One certificate for 127.0.0.1 per test file: RSA key generation is the slow part. */
function testCertificate() {
  certificate ??= generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }],
  }).then((pems) => ({ key: pems.private, cert: pems.cert }));
  return certificate;
}

const smtpError = (answer: { code: number; message: string }) => Object.assign(new Error(answer.message), { responseCode: answer.code });

/** `implicitTls`: TLS from the first byte (port 465 style); `noStartTls`: a server that never offers STARTTLS. */
export type SmtpMode = { implicitTls?: boolean; noStartTls?: boolean };

export async function startSmtp(answerData: SmtpSink['answerData'] = () => undefined, mode: SmtpMode = {}): Promise<SmtpSink> {
  const { key, cert } = await testCertificate();
  const caFile = join(tempDir('chatlio-relay-smtp-'), 'smtp-ca.pem');
  writeFileSync(caFile, cert);
  const sink: SmtpSink = { port: 0, caFile, mails: [], refusedLogins: 0, answerData, close: async () => {} };
  let attempts = 0;
  // Unless told otherwise, AUTH only after STARTTLS: a client that logs in has upgraded the connection.
  const server = new SMTPServer({
    secure: mode.implicitTls === true,
    key,
    cert,
    ...(mode.noStartTls ? { disabledCommands: ['STARTTLS'], allowInsecureAuth: true } : { allowInsecureAuth: false }),
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) return callback(null, { user: auth.username });
      sink.refusedLogins += 1;
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const answer = sink.answerData(attempts++);
        if (answer) return callback(smtpError(answer));
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then(
          (parsed) => {
            sink.mails.push({
              envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              secure: session.secure,
              user: typeof session.user === 'string' ? session.user : undefined,
              raw,
              parsed,
            });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  sink.port = typeof address === 'object' && address ? address.port : 0;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}
