// A local HTTP server standing in for a remote API: records every request, answers as the test says.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';

export type SinkRequest = { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer };
export type SinkAnswer = { status: number; headers?: Record<string, string>; body?: string } | 'hold';
export type Sink = {
  url: string;
  requests: SinkRequest[];
  /** Decides each answer; 'hold' keeps the request open until release() or close(). */
  respond: (request: SinkRequest, index: number) => SinkAnswer;
  release: () => void;
  close: () => Promise<void>;
};

export async function startSink(respond: Sink['respond'] = () => ({ status: 200 }), port = 0): Promise<Sink> {
  const held: ServerResponse[] = [];
  const sink: Sink = {
    url: '',
    requests: [],
    respond,
    release: () => {
      for (const response of held.splice(0)) response.writeHead(200).end('ok');
    },
    close: async () => {
      for (const response of held.splice(0)) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      const index = sink.requests.push(request) - 1;
      const answer = sink.respond(request, index);
      if (answer === 'hold') {
        held.push(res);
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  sink.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return sink;
}
