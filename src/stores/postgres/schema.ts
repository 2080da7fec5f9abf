/**
 * The PostgreSQL schema of the store and its versioned migrations, run under
 * a transaction-scoped advisory lock so that several processes migrating at
 * once serialize and each step runs exactly once.
 * @module
 */
import { createHash } from 'node:crypto';
import { StoreError } from '../../core/errors.js';
import type { RunQuery } from './db.js';

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = 1;

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,47}$/;

/** Quoted, schema-qualified names of one store's objects. */
export interface SchemaNames {
  /** The schema name, unquoted. */
  readonly schema: string;
  /** `"<schema>"`. */
  readonly quotedSchema: string;
  readonly records: string;
  readonly index: string;
  readonly migrations: string;
  readonly syncFunction: string;
  /** The `LISTEN`/`NOTIFY` channel of the store (an identifier, unquoted). */
  readonly channel: string;
  /** Seed of the advisory lock keys of this schema. */
  readonly lockSeed: string;
}

/**
 * Check a schema name and build the quoted names of the store's objects.
 * @throws TypeError when `schema` is not `/^[a-z_][a-z0-9_]{0,47}$/`
 * @example `schemaNames('tessera').records // '"tessera".tessera_records'`
 */
export function schemaNames(schema: string): SchemaNames {
  if (typeof schema !== 'string' || !SCHEMA_RE.test(schema)) {
    throw new TypeError('schema must match /^[a-z_][a-z0-9_]{0,47}$/');
  }
  const q = `"${schema}"`;
  return {
    schema,
    quotedSchema: q,
    records: `${q}.tessera_records`,
    index: `${q}.tessera_index`,
    migrations: `${q}.tessera_migrations`,
    syncFunction: `${q}.tessera_sync_index`,
    channel: `tessera_events_${schema}`,
    lockSeed: createHash('sha256').update(`tessera:${schema}`).digest('hex').slice(0, 16),
  };
}

/**
 * The advisory lock key (a signed 64-bit integer, as a decimal string) that
 * every writer able to create the record `collection/key` takes first, so
 * that a transaction can hold a record it found absent.
 * @example `recordLockKey(names, 'sessions', 'abc') // '-8312...'`
 */
export function recordLockKey(names: SchemaNames, collection: string, key: string): string {
  return createHash('sha256')
    .update(`${names.lockSeed}\u0000${collection}\u0000${key}`)
    .digest()
    .readBigInt64BE(0)
    .toString();
}

function migrationLockKey(names: SchemaNames): string {
  return createHash('sha256')
    .update(`tessera:migrate:${names.schema}`)
    .digest()
    .readBigInt64BE(0)
    .toString();
}

/** One migration: a description and the statements that upgrade version `i` to `i + 1`. */
interface Migration {
  readonly description: string;
  readonly statements: (n: SchemaNames) => string[];
}

const MIGRATIONS: readonly Migration[] = [
  {
    description: 'records, index table kept by trigger, expiry index',
    statements: (n) => [
      // Keys compare in code-point order ("C"), whatever the database's collation.
      `CREATE TABLE ${n.records} (
        collection text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        partition text COLLATE "C" NOT NULL,
        data jsonb NOT NULL,
        idx jsonb NOT NULL DEFAULT '{}'::jsonb,
        version bigint NOT NULL,
        expires_at bigint,
        PRIMARY KEY (collection, key)
      ) WITH (fillfactor = 85)`,
      `CREATE INDEX tessera_records_expires_at ON ${n.records} (expires_at)
        WHERE expires_at IS NOT NULL`,
      `CREATE TABLE ${n.index} (
        collection text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        value text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        PRIMARY KEY (collection, name, value, key)
      )`,
      // The index table follows the idx column of every write, in the same transaction.
      `CREATE FUNCTION ${n.syncFunction}() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO ${n.index} (collection, name, value, key)
            SELECT NEW.collection, e.key, e.value, NEW.key FROM jsonb_each_text(NEW.idx) AS e
            ON CONFLICT DO NOTHING;
        ELSIF TG_OP = 'UPDATE' THEN
          DELETE FROM ${n.index} AS i USING jsonb_each_text(OLD.idx) AS e
            WHERE i.collection = OLD.collection AND i.name = e.key AND i.value = e.value
              AND i.key = OLD.key AND (NEW.idx ->> e.key) IS DISTINCT FROM e.value;
          INSERT INTO ${n.index} (collection, name, value, key)
            SELECT NEW.collection, e.key, e.value, NEW.key FROM jsonb_each_text(NEW.idx) AS e
            WHERE (OLD.idx ->> e.key) IS DISTINCT FROM e.value
            ON CONFLICT DO NOTHING;
        ELSE
          DELETE FROM ${n.index} AS i USING jsonb_each_text(OLD.idx) AS e
            WHERE i.collection = OLD.collection AND i.name = e.key AND i.value = e.value
              AND i.key = OLD.key;
        END IF;
        RETURN NULL;
      END
      $fn$`,
      `CREATE TRIGGER tessera_index_insert AFTER INSERT ON ${n.records}
        FOR EACH ROW WHEN (NEW.idx <> '{}'::jsonb) EXECUTE FUNCTION ${n.syncFunction}()`,
      `CREATE TRIGGER tessera_index_update AFTER UPDATE OF idx ON ${n.records}
        FOR EACH ROW WHEN (OLD.idx IS DISTINCT FROM NEW.idx) EXECUTE FUNCTION ${n.syncFunction}()`,
      `CREATE TRIGGER tessera_index_delete AFTER DELETE ON ${n.records}
        FOR EACH ROW WHEN (OLD.idx <> '{}'::jsonb) EXECUTE FUNCTION ${n.syncFunction}()`,
    ],
  },
];

/**
 * The schema version recorded in the database, without any lock: `0` when the
 * schema or its migrations table does not exist yet.
 * @example `if ((await schemaVersion(db.query, names)) === SCHEMA_VERSION) return;`
 */
export async function schemaVersion(query: RunQuery, n: SchemaNames): Promise<number> {
  try {
    const rows = await query({
      text: `SELECT coalesce(max(version), 0) AS version FROM ${n.migrations}`,
      values: [],
      prepare: false,
    });
    return Number(rows[0]?.version ?? 0);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === '42P01' || code === '3F000') return 0; // no table / no schema yet
    throw err;
  }
}

/** Refuse a database whose schema is newer than this code. */
export function checkNotNewer(current: number, n: SchemaNames): void {
  if (current > SCHEMA_VERSION) {
    throw new StoreError(
      `schema ${n.schema} has version ${current}; this tessera supports up to ${SCHEMA_VERSION}`,
    );
  }
}

/**
 * Create or upgrade the schema inside the caller's transaction: take the
 * schema's advisory lock, create the schema and the migrations table when
 * missing, and apply every migration not recorded yet.
 *
 * @returns the versions applied by this call (empty when already up to date)
 * @throws StoreError when the database holds a newer schema than this code knows
 * @example `await db.transaction((q) => migrateSchema(q, schemaNames('tessera')));`
 */
export async function migrateSchema(query: RunQuery, n: SchemaNames): Promise<number[]> {
  await query({
    text: 'SELECT pg_advisory_xact_lock($1::bigint)',
    values: [migrationLockKey(n)],
    prepare: false,
  });
  const exists = await query({
    text: 'SELECT 1 FROM pg_namespace WHERE nspname = $1',
    values: [n.schema],
    prepare: false,
  });
  // CREATE SCHEMA needs CREATE on the database even with IF NOT EXISTS: skip it when present.
  if (exists.length === 0)
    await query({ text: `CREATE SCHEMA ${n.quotedSchema}`, values: [], prepare: false });
  await query({
    text: `CREATE TABLE IF NOT EXISTS ${n.migrations} (
      version integer PRIMARY KEY,
      description text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`,
    values: [],
    prepare: false,
  });
  const rows = await query({
    text: `SELECT coalesce(max(version), 0) AS version FROM ${n.migrations}`,
    values: [],
    prepare: false,
  });
  const current = Number(rows[0]?.version ?? 0);
  checkNotNewer(current, n);
  const applied: number[] = [];
  for (let v = current; v < SCHEMA_VERSION; v++) {
    const m = MIGRATIONS[v]!;
    for (const text of m.statements(n)) await query({ text, values: [], prepare: false });
    await query({
      text: `INSERT INTO ${n.migrations} (version, description) VALUES ($1, $2)`,
      values: [v + 1, m.description],
      prepare: false,
    });
    applied.push(v + 1);
  }
  return applied;
}
