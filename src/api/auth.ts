// Bearer API-token check for everything under /api; the webhook token does not open it.
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../errors.js';
import { bearerToken, tokenChecker } from '../tokens.js';

export function requireApiToken(app: FastifyInstance, apiToken: string): void {
  const isApiToken = tokenChecker([apiToken]);
  app.addHook('onRequest', async (request) => {
    if (!isApiToken(bearerToken(request.headers.authorization))) {
      throw new HttpProblem(401, 'missing or wrong API token (Authorization: Bearer <API_TOKEN>)', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
  });
}
