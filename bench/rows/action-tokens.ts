/**
 * Row 4 (memory, SQLite): action-token `use()` against each backend's raw
 * ceiling, measured in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createActionTokens } from '../../src/action-tokens/index.js';
import { createValueHasher } from '../../src/action-tokens/value-hash.js';
import { createFakeClock } from '../../src/core/clock.js';
import type { Store } from '../../src/stores/contract.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { createSqliteStore } from '../../src/stores/sqlite/index.js';
import { testKeyring } from '../../src/testing/action-tokens-suite.js';
import type { Row } from '../harness.js';

/** Uses per token (the API's maximum); the op rotates over {@link TOKENS} tokens. */
const USES = 1_000_000;
const TOKENS = 16;

async function tokenUser(store: Store) {
  const tokens = createActionTokens({ store, keyring: testKeyring(), clock: createFakeClock() });
  const values: string[] = [];
  for (let t = 0; t < TOKENS; t++) {
    const { value } = await tokens.create({
      owner: `bench-${t}`,
      action: 'use',
      remainingUses: USES,
      ttlSeconds: 86_400,
    });
    values.push(value);
  }
  let i = 0;
  return () => {
    const t = i++ % TOKENS;
    return tokens.use({
      owner: `bench-${t}`,
      action: 'use',
      value: values[t]!,
      drainWhenValid: false,
    });
  };
}

/** The rows this file contributes. */
export async function actionTokenRows(): Promise<Row[]> {
  // The cheapest HMAC-SHA-256 Node offers, the one Tessera's use() runs: a key imported once
  // as a KeyObject, the length-prefixed parts written into one buffer.
  const hasher = createValueHasher(testKeyring(), 'bench');
  const expected = hasher.digest(['bench', 'use', 'value']);
  const owners = Array.from({ length: TOKENS }, (_, t) => `bench-${t}`);
  const hashes = owners.map((o) => hasher.digest([o, 'use', 'value']));
  let j = 0;

  // Memory: the ceiling is a Map lookup, an HMAC and a decrement.
  const map = new Map<string, { uses: number; hash: string; expiresAt: number }>();
  let memUse: () => unknown = () => undefined;
  const memory: Row = {
    id: 'use-memory',
    title: 'Action token use(), memory store',
    subject: { name: 'Tessera use()', op: () => memUse() },
    baseline: {
      name: 'Map + HMAC + decrement',
      op: () => {
        const t = j++ % TOKENS;
        const owner = owners[t]!;
        const r = map.get(`k:use:${owner}`);
        const h = hasher.digest([owner, 'use', 'value']);
        if (r && r.uses > 0 && r.hash === h && r.expiresAt > Date.now()) r.uses--;
      },
    },
    target: 0.7,
    setup: async () => {
      for (let t = 0; t < TOKENS; t++) {
        const expiresAt = Date.now() + 86_400_000;
        map.set(`k:use:${owners[t]}`, { uses: 1e12, hash: hashes[t]!, expiresAt });
      }
      memUse = await tokenUser(createMemoryStore());
    },
  };

  // SQLite: the ceiling is one prepared UPDATE ... RETURNING on a WAL file.
  let dir = '';
  let raw: Database.Database | undefined;
  let store: Store | undefined;
  let sqliteUse: () => unknown = () => undefined;
  let stmt: Database.Statement | undefined;
  const sqlite: Row = {
    id: 'use-sqlite',
    title: 'Action token use(), SQLite store (WAL file)',
    subject: { name: 'Tessera use()', op: () => sqliteUse() },
    baseline: {
      name: 'prepared UPDATE ... RETURNING',
      op: () => stmt?.get(hasher.digest(['bench', 'use', 'value']), Date.now()),
    },
    target: 0.7,
    setup: async () => {
      dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
      raw = new Database(join(dir, 'raw.db'));
      raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = NORMAL');
      raw.exec(
        'CREATE TABLE t (k TEXT PRIMARY KEY, uses INTEGER, h TEXT, expires_at INTEGER) WITHOUT ROWID',
      );
      raw
        .prepare('INSERT INTO t VALUES (?, ?, ?, ?)')
        .run('k:use:bench', 1e12, expected, Date.now() + 86_400_000);
      stmt = raw.prepare(
        "UPDATE t SET uses = uses - 1 WHERE k = 'k:use:bench' AND uses > 0 AND h = ? AND expires_at > ? RETURNING uses",
      );
      store = createSqliteStore({ path: join(dir, 'tessera.db') });
      await store.migrate();
      sqliteUse = await tokenUser(store);
    },
    teardown: async () => {
      raw?.close();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return [memory, sqlite];
}

/** Row 7: heap bytes per live token in the memory store. */
export async function memoryBytesPerToken(count: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const store = createMemoryStore();
  const tokens = createActionTokens({ store, keyring: testKeyring(), clock: createFakeClock() });
  gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) {
    await tokens.create({ owner: `user-${i}`, action: 'verify-email', generate: { kind: 'code' } });
  }
  gc?.();
  const after = process.memoryUsage().heapUsed;
  // Keep the store alive until measured.
  if ((await store.get({ collection: 'action', key: 'k:verify-email:user-0' })) === null)
    throw new Error('lost');
  return (after - before) / count;
}
