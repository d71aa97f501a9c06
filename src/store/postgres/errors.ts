// Errors start-up can meet, each with a one-line message the CLI prints before exiting 1.

/** The database cannot be reached or refused the login. */
export class PostgresUnavailableError extends Error {
  override name = 'PostgresUnavailableError';
}
