/** Helpers shared by the PostgreSQL store tests. */
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/** Absolute path of the module race workers import to open a store. */
export const WORKER_MODULE = fileURLToPath(new URL('./worker-store.ts', import.meta.url));

/** One statement the store sent through `pool.query`. */
export interface LoggedQuery {
  readonly text: string;
  readonly values: unknown[];
}

/**
 * Wrap a pool so the test sees every single statement the store sends through
 * `pool.query` (transactions use `pool.connect`, which is not logged), and
 * can inject failures before they reach the server.
 */
export function recordingPool(
  pool: pg.Pool,
  inject?: (query: LoggedQuery) => Error | undefined,
): { pool: pg.Pool; log: LoggedQuery[]; serverErrors: string[] } {
  const log: LoggedQuery[] = [];
  const serverErrors: string[] = [];
  const wrapped = {
    query(config: pg.QueryConfig) {
      const q = { text: config.text, values: [...(config.values ?? [])] };
      log.push(q);
      const injected = inject?.(q);
      if (injected !== undefined) return Promise.reject(injected);
      return pool.query(config).catch((err: { code?: string }) => {
        if (typeof err.code === 'string') serverErrors.push(err.code);
        throw err;
      });
    },
    connect: () => pool.connect(),
    on: pool.on.bind(pool),
  };
  return { pool: wrapped as unknown as pg.Pool, log, serverErrors };
}

/** A pg error with a SQLSTATE, as the driver would throw it. */
export function sqlError(code: string, message = `injected ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Wrap a pool so that new dedicated connections (`pool.connect`: the events
 * listener, transactions) wait while held; single statements (`pool.query`)
 * go through. Lets a test keep a killed listener from coming back until it
 * says so.
 */
export function gatedPool(pool: pg.Pool): { pool: pg.Pool; hold(): void; release(): void } {
  let gate: Promise<void> | null = null;
  let open: () => void = () => {};
  const wrapped = {
    query: (config: pg.QueryConfig) => pool.query(config),
    async connect() {
      while (gate !== null) await gate;
      return pool.connect();
    },
    on: pool.on.bind(pool),
  };
  return {
    pool: wrapped as unknown as pg.Pool,
    hold() {
      gate ??= new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    release() {
      gate = null;
      open();
    },
  };
}
