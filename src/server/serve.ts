/**
 * Start and stop the service: open the store, load the keys, create the admin
 * credential on first start (for the caller to hand over once), listen, run
 * maintenance in the background (release the tokens of timed-out sessions,
 * sweep expired records), and shut down gracefully (readiness goes to 503, the server
 * stops accepting, in-flight requests finish within the grace period, then the
 * store closes and the logs are flushed).
 * @module
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { DestinationStream, Logger } from 'pino';
import { type Clock, systemClock } from '../core/clock.js';
import type { Store } from '../stores/contract.js';
import { createAdminVerifier, ensureAdminCredential } from './admin.js';
import { createServiceApp } from './app.js';
import type { ServiceConfig } from './config.js';
import { errorBody } from './http-errors.js';
import { instrumentStore } from './instrumented-store.js';
import { loadServiceSigner } from './jwt-keys.js';
import { createServiceLogger } from './logger.js';
import { runMaintenance } from './maintenance.js';
import { createServiceMetrics, type ServiceMetrics } from './metrics.js';
import { openStore } from './open-store.js';
import { loadKeyring } from './secrets.js';

/** A running service. */
export interface RunningService {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The store it serves from (instrumented). */
  readonly store: Store;
  /** The admin credential when this start created it (hand it over once, never into the logs), else null. */
  readonly newAdminCredential: string | null;
  /** Its metrics. */
  readonly metrics: ServiceMetrics;
  /** Its logger. */
  readonly logger: Logger;
  /**
   * Stop accepting, wait for in-flight requests (up to `graceMs`, default the
   * configured grace), close the store, flush the logs. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

/** Options of {@link startService} beyond the configuration. */
export interface StartServiceOptions {
  /** Environment (for `TESSERA_SECRET`, `TESSERA_ADMIN_TOKEN`); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Time source (default: the system clock). */
  readonly clock?: Clock;
  /** A store to serve from instead of opening `config.store` (it is migrated, and closed on close). */
  readonly store?: Store;
  /** Where JSON logs go (default: stdout). */
  readonly logDestination?: DestinationStream;
}

/** The fetch handler of the HTTP server (Hono's `app.fetch`). */
type FetchHandler = (...args: Parameters<OpenAPIHono['fetch']>) => Response | Promise<Response>;

/** The answer while the service is starting (listening, the app not built yet). */
const starting: FetchHandler = () =>
  new Response(JSON.stringify(errorBody('ERR_TESSERA_NOT_READY', 'Starting.')), {
    status: 503,
    headers: { 'content-type': 'application/json', 'retry-after': '1' },
  });

function packageVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Start the service.
 *
 * @param config - validated configuration
 * @param options - environment, clock, an injected store, a log destination
 * @throws ConfigError for bad configuration; StoreUnavailableError when the store cannot be opened
 * @example
 * ```ts
 * const svc = await startService(parseServeConfig([]));
 * console.log(svc.url);
 * ```
 */
export async function startService(
  config: ServiceConfig,
  options: StartServiceOptions = {},
): Promise<RunningService> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const { keyring } = loadKeyring(config.dataDir, env);
  const logger = createServiceLogger({
    level: config.logLevel,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const metrics = createServiceMetrics();
  let raw: Store;
  if (options.store) {
    raw = options.store;
    await raw.migrate();
  } else {
    raw = await openStore(config.store, config.dataDir);
  }
  const store = instrumentStore(raw, metrics);
  let shuttingDown = false;
  let server: ReturnType<typeof serve> | undefined;
  try {
    const fixed = env.TESSERA_ADMIN_TOKEN || undefined;
    const newAdminCredential = fixed ? null : await ensureAdminCredential(store, clock);
    const admin = createAdminVerifier(store, clock, { fixed });
    // Listen first: the default public URL (and so the JWT issuer) is the address bound,
    // whose port may be chosen by the system. Until the app is built, answer 503.
    let handle: FetchHandler = starting;
    server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve(
        { fetch: (...args) => handle(...args), port: config.port, hostname: config.host },
        () => resolve(s),
      );
      s.once('error', reject);
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    const publicUrl = config.publicUrl ?? url;
    const signer = await loadServiceSigner({
      ...(config.jwtKeysFile ? { keysFile: config.jwtKeysFile } : {}),
      store,
      keyring,
      clock,
      issuer: config.issuer ?? publicUrl,
      ttlSeconds: config.jwtTtlSeconds,
    });
    const service = createServiceApp({
      store,
      keyring,
      clock,
      admin,
      signer,
      publicUrl,
      logger,
      metrics,
      bodyLimitBytes: config.bodyLimitBytes,
      logRequests: config.logRequests,
      metricsMode: config.metrics,
      rateLimitIp: config.rateLimitIp,
      rateLimitIdentity: config.rateLimitIdentity,
      trustProxy: config.trustProxy,
      docs: config.docs,
      exposeReasons: config.exposeReasons,
      isShuttingDown: () => shuttingDown,
      version: packageVersion(),
    });
    handle = service.app.fetch;
    const listening = server;

    let sweeping: Promise<unknown> = Promise.resolve();
    let busy = false;
    const sweeper =
      config.sweepIntervalSeconds > 0
        ? setInterval(() => {
            if (busy) return; // a slow pass is not stacked upon
            busy = true;
            sweeping = runMaintenance({ store, sessions: service.sessions, now: clock.now() })
              .then(
                (r) => {
                  if (r.swept > 0 || r.tokens > 0) logger.debug(r, 'maintenance done');
                },
                (err) => logger.warn({ err }, 'background maintenance failed'),
              )
              .finally(() => {
                busy = false;
              });
          }, config.sweepIntervalSeconds * 1000)
        : undefined;
    sweeper?.unref();

    logger.info(
      {
        url,
        publicUrl,
        issuer: signer.issuer,
        store: store.kind,
        dataDir: config.dataDir,
        version: packageVersion(),
      },
      'listening',
    );
    let closing: Promise<void> | undefined;
    return {
      url,
      store,
      newAdminCredential,
      metrics,
      logger,
      close(graceMs = config.shutdownGraceSeconds * 1000) {
        closing ??= (async () => {
          shuttingDown = true;
          if (sweeper) clearInterval(sweeper);
          logger.info({ graceMs }, 'shutting down');
          const http = listening as unknown as {
            closeAllConnections?: () => void;
            closeIdleConnections?: () => void;
          };
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => http.closeAllConnections?.(), graceMs);
            timer.unref();
            // Keep-alive connections become idle once their request is answered: close them then.
            const idle = setInterval(() => http.closeIdleConnections?.(), 50);
            idle.unref();
            listening.close(() => {
              clearTimeout(timer);
              clearInterval(idle);
              resolve();
            });
            http.closeIdleConnections?.();
          });
          await sweeping.catch(() => {});
          await service.close().catch(() => {});
          await store.close();
          logger.info('stopped');
          await new Promise<void>((resolve) => logger.flush(() => resolve()));
        })();
        return closing;
      },
    };
  } catch (err) {
    const open = server;
    if (open) await new Promise<void>((resolve) => open.close(() => resolve()));
    await store.close().catch(() => {});
    throw err;
  }
}
