/**
 * The service's HTTP application (Hono): health, the admin guard and the
 * token routes. Framework-free callers can use `app.fetch(request)`.
 * @module
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createActionTokens } from '../action-tokens/index.js';
import type { Clock } from '../core/clock.js';
import { UnauthorizedError } from '../core/errors.js';
import type { Keyring } from '../core/keyring.js';
import type { Store } from '../stores/contract.js';
import type { AdminVerifier } from './admin.js';
import { errorAnswer } from './http-errors.js';
import { mountActionTokenRoutes } from './routes/action-tokens.js';

/** What the application needs. */
export interface ServiceAppOptions {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly admin: AdminVerifier;
  /** Largest request body, bytes (default 65536). */
  readonly bodyLimitBytes?: number;
  /** Where unexpected errors are reported (default: console.error, without request bodies). */
  readonly onError?: (err: unknown) => void;
}

/**
 * Build the Hono application.
 * @example
 * ```ts
 * const app = createServiceApp({ store, keyring, clock: systemClock, admin });
 * const res = await app.fetch(new Request('http://x/healthz'));
 * ```
 */
export function createServiceApp(options: ServiceAppOptions): Hono {
  const app = new Hono();
  const onError =
    options.onError ?? ((err: unknown) => console.error('tessera: unexpected error', err));
  const limit = options.bodyLimitBytes ?? 65_536;

  app.onError((err, c) => {
    const answer = errorAnswer(err);
    if (answer.status >= 500 && answer.status !== 503) onError(err);
    for (const [k, v] of Object.entries(answer.headers)) c.header(k, v);
    return c.json(answer.body, answer.status as 400);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'ERR_TESSERA_NO_ROUTE', message: 'No such route.' } }, 404),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: limit,
      onError: (c) =>
        c.json(
          {
            error: { code: 'ERR_TESSERA_BODY_TOO_LARGE', message: `Body exceeds ${limit} bytes.` },
          },
          413,
        ),
    }),
  );
  app.use('/v1/*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header);
    if (!m || !(await options.admin.verify(m[1] as string))) {
      throw new UnauthorizedError('A valid admin credential is required.');
    }
    await next();
  });

  const tokens = createActionTokens({
    store: options.store,
    keyring: options.keyring,
    clock: options.clock,
  });
  mountActionTokenRoutes(app, tokens);
  return app;
}
