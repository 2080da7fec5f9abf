/**
 * The operational endpoints, documented in the OpenAPI document like every
 * other route: `GET /healthz` (the process answers), `GET /readyz` (the store
 * answers within 2 s, and the service is not shutting down) and `GET /metrics`
 * (Prometheus text format; public, protected by `tessera:metrics`, or off).
 * @module
 */
import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import type { Store } from '../stores/contract.js';
import { clientIp } from './client-ip.js';
import { errorBody } from './http-errors.js';
import type { ServiceMetrics } from './metrics.js';
import { SERVICE_ROLES } from './roles.js';
import { authorize, type RouteRuntime, type ServiceEnv, z } from './route.js';
import { ErrorSchema, HealthSchema } from './schemas.js';

const tags = ['Operations'];

const ReadySchema = z
  .object({ status: z.literal('ready'), store: z.string() })
  .openapi('Ready', { description: 'The store answered; `store` is its kind.' });

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/**
 * Mount `/healthz`, `/readyz` and (unless off) `/metrics`, with their OpenAPI entries.
 * @param options - the store, logger and metrics; the `/metrics` mode; whether shutdown began
 * @example `mountOperationRoutes(app, rt, { store, logger, metrics, metricsMode: 'public' });`
 */
export function mountOperationRoutes(
  app: OpenAPIHono<ServiceEnv>,
  rt: RouteRuntime,
  options: {
    store: Store;
    logger: Logger;
    metrics: ServiceMetrics;
    metricsMode: 'public' | 'protected' | 'off';
    isShuttingDown?: () => boolean;
  },
): void {
  const { store, logger, metrics, metricsMode } = options;
  const register = (config: RouteConfig) => app.openAPIRegistry.registerPath(config);

  register({
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    summary: 'Liveness: the process answers',
    description: 'No credential, no store access, no rate limit.',
    tags,
    security: [],
    responses: {
      200: { description: 'Alive.', content: { 'application/json': { schema: HealthSchema } } },
      500: errorResponse('Unexpected error (`ERR_TESSERA_INTERNAL`).'),
    },
  });
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  register({
    method: 'get',
    path: '/readyz',
    operationId: 'ready',
    summary: 'Readiness: the store answers',
    description:
      'One store read within 2 s. 503 `ERR_TESSERA_NOT_READY` while the store is unreachable and once shutdown began (SIGTERM), so a load balancer drains the instance.',
    tags,
    security: [],
    responses: {
      200: { description: 'Ready.', content: { 'application/json': { schema: ReadySchema } } },
      500: errorResponse('Unexpected error (`ERR_TESSERA_INTERNAL`).'),
      503: errorResponse('Not ready (`ERR_TESSERA_NOT_READY`).'),
    },
  });
  app.get('/readyz', async (c) => {
    if (options.isShuttingDown?.()) {
      return c.json(errorBody('ERR_TESSERA_NOT_READY', 'Shutting down.'), 503);
    }
    try {
      await withTimeout(store.get({ collection: 'service', key: 'readyz' }), 2000);
      return c.json({ status: 'ready' as const, store: store.kind });
    } catch (err) {
      logger.warn({ reqId: c.get('requestId'), err }, 'readiness check failed');
      return c.json(errorBody('ERR_TESSERA_NOT_READY', 'The store is not reachable.'), 503);
    }
  });

  if (metricsMode === 'off') return;
  const protectedMetrics = metricsMode === 'protected';
  register({
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    description: `Text exposition format: request latency histograms by route and status, verify outcomes by family and reason, store latency and errors, rate-limit refusals, process metrics. ${
      protectedMetrics
        ? `Roles: \`tessera:admin\` or \`${SERVICE_ROLES.metrics}\` (--metrics protected).`
        : 'No credential (--metrics public).'
    }`,
    tags,
    security: protectedMetrics ? [{ bearerAuth: [] }] : [],
    responses: {
      200: {
        description: 'The metrics.',
        content: { [metrics.registry.contentType]: { schema: z.string() } },
      },
      ...(protectedMetrics
        ? {
            401: errorResponse(
              'Missing or invalid credential (`ERR_TESSERA_UNAUTHORIZED`); `WWW-Authenticate: Bearer`.',
            ),
            403: errorResponse(
              'The credential lacks the role (`ERR_TESSERA_FORBIDDEN`); `WWW-Authenticate: Bearer error="insufficient_scope"`.',
            ),
            429: errorResponse('Rate limited (`ERR_TESSERA_THROTTLED`); see `Retry-After`.'),
          }
        : {}),
      500: errorResponse('Unexpected error (`ERR_TESSERA_INTERNAL`).'),
    },
  });
  app.get('/metrics', async (c) => {
    if (protectedMetrics) {
      await authorize(c, rt, [SERVICE_ROLES.metrics], clientIp(c, rt.trustProxy));
    }
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { 'content-type': metrics.registry.contentType });
  });
}
