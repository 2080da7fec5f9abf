/**
 * Open a store from a URL, for the service and the CLI. Drivers load lazily,
 * so an unused backend's package need not be installed.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { Store } from '../stores/contract.js';

/** The backends `openStore` knows, by URL scheme. */
export const STORE_SCHEMES = ['sqlite:', 'memory:'] as const;

/**
 * Open and migrate the store a URL names.
 *
 * - `sqlite:` — `<dataDir>/tessera.db` (the directory is created);
 *   `sqlite:relative/or/absolute/path.db` — that file.
 * - `memory:` — in-process; everything is lost on exit.
 *
 * @param url - the store URL
 * @param dataDir - the service's data directory
 * @throws ConfigError for an unknown scheme; StoreUnavailableError when the store cannot be opened
 * @example `const store = await openStore('sqlite:', './.tessera');`
 */
export async function openStore(url: string, dataDir: string): Promise<Store> {
  const scheme = url.slice(0, url.indexOf(':') + 1);
  let store: Store;
  if (scheme === 'memory:') {
    if (url !== 'memory:') throw new ConfigError('memory: takes no path');
    const { createMemoryStore } = await import('../stores/memory/index.js');
    store = createMemoryStore();
  } else if (scheme === 'sqlite:') {
    const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
    let path: string;
    if (rest === '') {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      path = join(dataDir, 'tessera.db');
      // Create the file owner-only before SQLite opens it (its -wal/-shm files inherit the mode).
      writeFileSync(path, '', { flag: 'a', mode: 0o600 });
    } else {
      path = isAbsolute(rest) ? rest : resolve(rest);
    }
    const { createSqliteStore } = await import('../stores/sqlite/index.js');
    store = createSqliteStore({ path });
  } else {
    throw new ConfigError(
      `unknown store "${url}": use one of ${STORE_SCHEMES.join(', ')} (with a path for sqlite:)`,
    );
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
