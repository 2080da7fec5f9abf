/**
 * Start and stop the service: open the store, load the keys, create the admin
 * credential on first start (printed once), listen, and shut down gracefully
 * (stop accepting, let in-flight requests finish, close the store).
 * @module
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Clock, systemClock } from '../core/clock.js';
import type { Store } from '../stores/contract.js';
import { createAdminVerifier, ensureAdminCredential } from './admin.js';
import { createServiceApp } from './app.js';
import type { ServiceConfig } from './config.js';
import { openStore } from './open-store.js';
import { loadKeyring } from './secrets.js';

/** A running service. */
export interface RunningService {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The store it serves from. */
  readonly store: Store;
  /** The admin credential when this start created it (print it once), else null. */
  readonly newAdminCredential: string | null;
  /** Stop accepting, wait for in-flight requests (up to `graceMs`, default 10000), close the store. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Start the service.
 *
 * @param config - validated configuration
 * @param options - environment (for `TESSERA_SECRET`, `TESSERA_ADMIN_TOKEN`) and clock
 * @throws ConfigError for bad configuration; StoreUnavailableError when the store cannot be opened
 * @example
 * ```ts
 * const svc = await startService(parseServeConfig([]));
 * console.log(svc.url);
 * ```
 */
export async function startService(
  config: ServiceConfig,
  options: { env?: Readonly<Record<string, string | undefined>>; clock?: Clock } = {},
): Promise<RunningService> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const { keyring } = loadKeyring(config.dataDir, env);
  const store = await openStore(config.store, config.dataDir);
  try {
    const fixed = env.TESSERA_ADMIN_TOKEN || undefined;
    const newAdminCredential = fixed ? null : await ensureAdminCredential(store, clock);
    const admin = createAdminVerifier(store, clock, { fixed });
    const app = createServiceApp({
      store,
      keyring,
      clock,
      admin,
      bodyLimitBytes: config.bodyLimitBytes,
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () =>
        resolve(s),
      );
      s.once('error', reject);
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host}:${address.port}`,
      store,
      newAdminCredential,
      close(graceMs = 10_000) {
        closing ??= (async () => {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            }, graceMs);
            timer.unref();
            server.close(() => {
              clearTimeout(timer);
              resolve();
            });
            (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          });
          await store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}
