/**
 * Prometheus metrics of the service (prom-client), on a registry of its own
 * (several services in one process do not collide):
 *
 * - `tessera_http_request_duration_seconds{method,route,status}` — histogram
 *   (its `_count` is the request counter);
 * - `tessera_verify_total{family,outcome,reason}` — every verification, by
 *   family (`access_token`, `action_token`, `challenge`, `session`,
 *   `credential` for the service's own authentication) and precise reason;
 * - `tessera_store_operation_duration_seconds{store,op}` — histogram;
 * - `tessera_store_errors_total{store,op,code}`;
 * - `tessera_rate_limited_total{policy}` — requests refused by a rate limit;
 * - Node's default process metrics (`process_*`, `nodejs_*`).
 * @module
 */
import {
  Counter,
  collectDefaultMetrics,
  Histogram,
  type Histogram as HistogramT,
  Registry,
} from 'prom-client';

/** What routes and middleware report. */
export interface ServiceMetrics {
  /** The registry `/metrics` renders. */
  readonly registry: Registry;
  /** Record one finished request. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** Record one verification outcome. */
  verify(family: string, valid: boolean, reason: string): void;
  /** Record one store operation. */
  storeOperation(store: string, op: string, seconds: number): void;
  /** Record one failed store operation. */
  storeError(store: string, op: string, code: string): void;
  /** Record one request refused by a rate limit. */
  rateLimited(policy: 'ip' | 'identity'): void;
}

const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/**
 * Create the metrics of one service.
 * @param options - `defaultMetrics`: also collect Node's process metrics (default true)
 * @example `const m = createServiceMetrics(); m.verify('access_token', false, 'expired');`
 */
export function createServiceMetrics(options: { defaultMetrics?: boolean } = {}): ServiceMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const http = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const verify = new Counter({
    name: 'tessera_verify_total',
    help: 'Verifications by token family, outcome (valid/invalid) and reason.',
    labelNames: ['family', 'outcome', 'reason'] as const,
    registers: [registry],
  });
  const storeOps = new Histogram({
    name: 'tessera_store_operation_duration_seconds',
    help: 'Store operation latency by backend and primitive.',
    labelNames: ['store', 'op'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: 'tessera_store_errors_total',
    help: 'Failed store operations by backend, primitive and error code.',
    labelNames: ['store', 'op', 'code'] as const,
    registers: [registry],
  });
  const limited = new Counter({
    name: 'tessera_rate_limited_total',
    help: 'Requests refused by a rate limit, by policy (ip or identity).',
    labelNames: ['policy'] as const,
    registers: [registry],
  });
  // Bound children are cached: label hashing is then paid once per series.
  const httpChildren = new Map<string, HistogramT.Internal<'method' | 'route' | 'status'>>();
  const storeChildren = new Map<string, HistogramT.Internal<'store' | 'op'>>();
  return {
    registry,
    observeRequest(method, route, status, seconds) {
      const k = `${method} ${status} ${route}`;
      let child = httpChildren.get(k);
      if (!child) {
        child = http.labels(method, route, String(status));
        httpChildren.set(k, child);
      }
      child.observe(seconds);
    },
    verify(family, valid, reason) {
      verify.inc({ family, outcome: valid ? 'valid' : 'invalid', reason });
    },
    storeOperation(store, op, seconds) {
      const k = `${store} ${op}`;
      let child = storeChildren.get(k);
      if (!child) {
        child = storeOps.labels(store, op);
        storeChildren.set(k, child);
      }
      child.observe(seconds);
    },
    storeError(store, op, code) {
      storeErrors.inc({ store, op, code });
    },
    rateLimited(policy) {
      limited.inc({ policy });
    },
  };
}
