// Bearer API-token check for everything under /api; the webhook token does not open it.
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../errors.js';
import { bearerToken, tokenMatches } from '../tokens.js';

export function requireApiToken(app: FastifyInstance, apiToken: string): void {
  app.addHook('onRequest', async (request) => {
    if (!tokenMatches(bearerToken(request.headers.authorization), [apiToken])) {
      throw new HttpProblem(401, 'missing or wrong API token (Authorization: Bearer <API_TOKEN>)', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
  });
}
