// The baseline: bare Fastify parsing the same JSON body and answering, no validation, no storage, no logging.
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
app.post('/webhooks/chatlio/transcript', async (request) => ({ received: typeof request.body === 'object' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
