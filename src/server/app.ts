/**
 * The service's HTTP application (Hono with the OpenAPI registry): health and
 * readiness, metrics, the OpenAPI document and reference page, and the token
 * routes. Framework-free callers can use `app.fetch(request)`.
 * @module
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import { type AccessTokens, createAccessTokens } from '../access-tokens/index.js';
import { createActionTokens } from '../action-tokens/index.js';
import { createChallenges } from '../challenges/index.js';
import type { Clock } from '../core/clock.js';
import type { Keyring } from '../core/keyring.js';
import { randomUUID } from '../core/random.js';
import { createAdminHandlers, createAuthHandlers, fromAccessTokens } from '../http/index.js';
import type { JwtSignerVerifier } from '../jwt/index.js';
import { createSessions, type Sessions } from '../sessions/index.js';
import type { Store } from '../stores/contract.js';
import type { AdminVerifier } from './admin.js';
import { createAuthenticator } from './auth.js';
import { clientIp } from './client-ip.js';
import type { RateLimitSetting } from './config.js';
import { mountDocs } from './docs.js';
import { errorAnswer, errorBody } from './http-errors.js';
import { jwtPrincipals } from './jwt-keys.js';
import { createServiceLogger } from './logger.js';
import { createServiceMetrics, type ServiceMetrics } from './metrics.js';
import { signerRevoker } from './minted-jwts.js';
import { mountOperationRoutes } from './operations.js';
import { createRateLimiter } from './rate-limit.js';
import { hasAnyRole, SERVICE_ROLES } from './roles.js';
import type { RouteRuntime, ServiceEnv } from './route.js';
import { mountAccessTokenRoutes } from './routes/access-tokens.js';
import { mountActionTokenRoutes } from './routes/action-tokens.js';
import { mountChallengeRoutes } from './routes/challenges.js';
import { mountOAuthRoutes } from './routes/oauth.js';
import { mountSessionRoutes } from './routes/sessions.js';

/** What the application needs. */
export interface ServiceAppOptions {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly admin: AdminVerifier;
  /** Largest request body, bytes (default 65536). */
  readonly bodyLimitBytes?: number;
  /** Logger (default: JSON on stdout at `info`). */
  readonly logger?: Logger;
  /** Whether each request is logged (default true). */
  readonly logRequests?: boolean;
  /** Metrics (default: a fresh registry). */
  readonly metrics?: ServiceMetrics;
  /** `/metrics` exposure (default `public`). */
  readonly metricsMode?: 'public' | 'protected' | 'off';
  /** Per-IP rate limit (default 300 per 60 s; null: off). */
  readonly rateLimitIp?: RateLimitSetting;
  /** Per-identity rate limit (default 6000 per 60 s; null: off). */
  readonly rateLimitIdentity?: RateLimitSetting;
  /** Trusted proxy hops for `X-Forwarded-For` (default 0). */
  readonly trustProxy?: number;
  /** Serve `/openapi.json` and `/docs` (default true). */
  readonly docs?: boolean;
  /** Answer failed verifications with their reason (default false). */
  readonly exposeReasons?: boolean;
  /**
   * Access tokens (default: created on the store with the keyring, and a 5 s
   * verify cache when the store's events reach every process that can open it,
   * see {@link verifyCacheFits}; its background errors are logged as warnings).
   */
  readonly accessTokens?: AccessTokens;
  /**
   * The JWT signer/verifier: enables `POST /auth/token`, the OAuth endpoints,
   * the seed's `/admin/tokens` routes, and JWTs as service credentials.
   */
  readonly signer?: JwtSignerVerifier;
  /**
   * The URL clients reach the service at (e.g. `https://auth.example.com`): the
   * OAuth metadata names its endpoints under `<publicUrl>/auth`. Default: the
   * origin each request was addressed to.
   */
  readonly publicUrl?: string;
  /** Whether the service is shutting down (`/readyz` answers 503 then). */
  readonly isShuttingDown?: () => boolean;
  /** The package version for the OpenAPI document. */
  readonly version?: string;
}

/** The application with what it created. */
export interface ServiceApp {
  readonly app: OpenAPIHono<ServiceEnv>;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  readonly accessTokens: AccessTokens;
  /** The sessions API its routes serve (for background collection). */
  readonly sessions: Sessions;
  /** Release what the app holds (caches, subscriptions); the store stays open. */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Store kinds whose `events` reach every process that can open the store:
 * Redis (pub/sub) and PostgreSQL (LISTEN/NOTIFY) across processes, and the
 * memory store, which only its own process can hold. SQLite and DynamoDB
 * deliver events in-process only, so another process (a second instance, or
 * `tessera tokens revoke` on the same file) could not invalidate a cache.
 */
const EVENTS_REACH_EVERY_PROCESS: ReadonlySet<string> = new Set(['redis', 'postgres', 'memory']);

/**
 * Whether the access-token verify cache may be used on `store`: only when a
 * change made by any process invalidates it at once (else a revoked token
 * would keep verifying elsewhere for the cache's lifetime).
 * @example `createAccessTokens({ store, ...(verifyCacheFits(store) ? { cache: { ttlMs: 5000 } } : {}) })`
 */
export function verifyCacheFits(store: Pick<Store, 'kind'>): boolean {
  return EVENTS_REACH_EVERY_PROCESS.has(store.kind);
}

/**
 * Build the Hono application.
 * @example
 * ```ts
 * const { app } = createServiceApp({ store, keyring, clock: systemClock, admin });
 * const res = await app.fetch(new Request('http://x/healthz'));
 * ```
 */
export function createServiceApp(options: ServiceAppOptions): ServiceApp {
  const { store, keyring, clock } = options;
  const logger = options.logger ?? createServiceLogger();
  const metrics = options.metrics ?? createServiceMetrics();
  const logRequests = options.logRequests ?? true;
  const accessTokens =
    options.accessTokens ??
    createAccessTokens({
      store,
      keyring,
      clock,
      ...(verifyCacheFits(store) ? { cache: { ttlMs: 5000 } } : {}),
      // Background failures (store events down, a lost invalidation publish); the cache
      // follows the store's event delivery status by itself, so nothing else is wired.
      onError: (err) => logger.warn({ err }, 'access tokens: background store error'),
    });
  const rt: RouteRuntime = {
    auth: createAuthenticator({
      admin: options.admin,
      accessTokens,
      metrics,
      ...(options.signer ? { jwt: jwtPrincipals(options.signer) } : {}),
    }),
    rateLimiter: createRateLimiter({
      store,
      clock,
      ip:
        options.rateLimitIp === undefined ? { limit: 300, windowSeconds: 60 } : options.rateLimitIp,
      identity:
        options.rateLimitIdentity === undefined
          ? { limit: 6000, windowSeconds: 60 }
          : options.rateLimitIdentity,
    }),
    metrics,
    logger,
    bodyLimitBytes: options.bodyLimitBytes ?? 65_536,
    trustProxy: options.trustProxy ?? 0,
    exposeReasons: options.exposeReasons ?? false,
  };
  const app = new OpenAPIHono<ServiceEnv>();
  // Request lines have a fixed shape with no secret field, so they skip redaction, which
  // costs about 30 µs a line with wildcard paths; every other log call stays redacted.
  const requestLogger = logger.child({}, { redact: { paths: [] } });

  // Request id, timing, the request log line, and headers every answer carries.
  app.use('*', async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    // Set before the handler runs, so they are part of the response it builds (touching
    // `c.res.headers` afterwards would push @hono/node-server off its fast path).
    c.header('x-request-id', requestId);
    c.header('x-content-type-options', 'nosniff');
    c.header('cache-control', 'no-store');
    await next();
    const res = c.res;
    const route = c.req.routePath === '/*' || c.req.routePath === '*' ? '(none)' : c.req.routePath;
    const seconds = (performance.now() - started) / 1000;
    metrics.observeRequest(c.req.method, route, res.status, seconds);
    if (logRequests) {
      requestLogger.info(
        {
          reqId: requestId,
          method: c.req.method,
          route,
          status: res.status,
          ms: Math.round(seconds * 10_000) / 10,
          ip: clientIp(c, rt.trustProxy),
          principal: c.get('principal')?.id,
        },
        'request',
      );
    }
  });

  app.onError((err, c) => {
    const answer = errorAnswer(err);
    if (answer.status >= 500) {
      logger.error({ reqId: c.get('requestId'), err }, 'request failed');
    }
    for (const [k, v] of Object.entries(answer.headers)) c.header(k, v);
    return c.json(answer.body, answer.status as 400);
  });
  app.notFound((c) => c.json(errorBody('ERR_TESSERA_NO_ROUTE', 'No such route.'), 404));

  mountOperationRoutes(app, rt, {
    store,
    logger,
    metrics,
    metricsMode: options.metricsMode ?? 'public',
    ...(options.isShuttingDown ? { isShuttingDown: options.isShuttingDown } : {}),
  });

  if (options.docs ?? true) mountDocs(app, options.version ?? '0.0.0');

  mountActionTokenRoutes(app, rt, createActionTokens({ store, keyring, clock }));
  const revoker = options.signer ? signerRevoker(options.signer) : null;
  mountAccessTokenRoutes(app, rt, accessTokens, revoker ? { revoker, clock } : undefined);
  mountChallengeRoutes(app, rt, createChallenges({ store, keyring, clock }));
  const sessions = createSessions({ store, keyring, clock });
  mountSessionRoutes(app, rt, sessions);
  if (options.signer) {
    const pat = fromAccessTokens(accessTokens);
    const httpLogger = {
      warn: (obj: object, msg?: string) => logger.warn(obj, msg),
      error: (obj: object, msg?: string) => logger.error(obj, msg),
    };
    mountOAuthRoutes(app, rt, {
      auth: createAuthHandlers({
        pat,
        signerVerifier: options.signer,
        // The token endpoint's attempts per IP follow --rate-limit-ip off; its failure budget per
        // (token id, client) stays whatever it says: it is what bounds guessing a token's secret.
        throttle: options.rateLimitIp === null ? { store, perIp: false } : { store },
        clock,
        logger: httpLogger,
        // Introspection tells any token's owner and roles: a service role, not an application
        // one, under the rule of every other route (an admin token or `tessera:admin` too).
        introspectRole: SERVICE_ROLES.introspect,
        canIntrospect: (caller) => hasAnyRole(caller, [SERVICE_ROLES.introspect]),
        ...(options.publicUrl === undefined ? {} : { publicUrl: `${options.publicUrl}/auth` }),
      }),
      admin: createAdminHandlers({
        pat,
        signerVerifier: options.signer,
        clock,
        logger: httpLogger,
      }),
    });
  }

  return {
    app,
    metrics,
    logger,
    accessTokens,
    sessions,
    close: () => accessTokens.close(),
  };
}
