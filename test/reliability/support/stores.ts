/**
 * The shared stores the service-level reliability tests run on, as URLs for
 * `tessera serve`, each with a dump of everything it holds (for the leak scan)
 * and a cleanup. A networked backend that is absent is skipped loudly
 * locally and fails in CI (see `test/support/backends.ts`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import Database from 'better-sqlite3';
import { type Cluster, Redis } from 'ioredis';
import pg from 'pg';
import {
  gateBackend,
  REDIS_URL,
  redisAvailable,
  redisBinariesAvailable,
} from '../../support/backends.js';
import { startTestDynamo, type TestDynamo, uniqueTableName } from '../../support/dynalite.js';
import { PG_URL, postgresAvailable } from '../../support/postgres.js';
import { startRedisCluster } from '../../support/redis-cluster.js';
import { tempDir } from './serve.js';

/** One store shared by the service instances of a test. */
export interface SharedStore {
  readonly name: string;
  /** The `--store` URL. */
  readonly url: string;
  /** Every record the store holds, as text (keys, values, rows). */
  dump(): Promise<string>;
  /** Drop what the test made and stop private servers. */
  cleanup(): Promise<void>;
}

/** How to make one kind of shared store. */
export interface StoreKind {
  readonly name: string;
  /** Whether the backend can run here (probed once). */
  available(): Promise<boolean>;
  /** A fresh, empty shared store. */
  open(): Promise<SharedStore>;
}

const suffix = () => `${process.pid}_${randomBytes(4).toString('hex')}`;

export const sqliteKind: StoreKind = {
  name: 'sqlite',
  available: async () => true,
  async open() {
    const file = join(tempDir(), 'shared.db');
    return {
      name: 'sqlite',
      url: `sqlite:${file}`,
      dump: async () => dumpSqlite(file),
      async cleanup() {},
    };
  },
};

/** Every row of every table of a SQLite file, as JSON (blobs as hex and as latin1 text). */
export function dumpSqlite(file: string): string {
  if (!existsSync(file)) return '';
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all() as Array<{
      name: string;
    }>;
    const parts: string[] = [];
    for (const t of tables) {
      const rows = db.prepare(`SELECT * FROM "${t.name}"`).all();
      parts.push(
        JSON.stringify(rows, (_k, v) =>
          Buffer.isBuffer(v) ? `${v.toString('hex')} ${v.toString('latin1')}` : v,
        ),
      );
    }
    return parts.join('\n');
  } finally {
    db.close();
  }
}

export const postgresKind: StoreKind = {
  name: 'postgres',
  available: () => postgresAvailable(),
  async open() {
    const schema = `tessera_rel_${suffix()}`;
    const withSchema = (url: string) =>
      `${url}${url.includes('?') ? '&' : '?'}schema=${encodeURIComponent(schema)}`;
    return {
      name: 'postgres',
      url: withSchema(PG_URL),
      dump: () => dumpPostgres(PG_URL, schema),
      async cleanup() {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        try {
          await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await c.end();
        }
      },
    };
  },
};

/** Every row of every table of a schema, as JSON lines. */
export async function dumpPostgres(url: string, schema: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  try {
    const tables = await c.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    );
    const parts: string[] = [];
    for (const t of tables.rows as Array<{ table_name: string }>) {
      const rows = await c.query(
        `SELECT row_to_json(x)::text AS j FROM "${schema}"."${t.table_name}" x`,
      );
      for (const r of rows.rows as Array<{ j: string }>) parts.push(r.j);
    }
    return parts.join('\n');
  } finally {
    await c.end();
  }
}

/** Every key under `*prefix*` with its value, on every master. */
export async function dumpRedis(client: Redis | Cluster, prefix: string): Promise<string> {
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  const parts: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await node.type(key);
        let value: unknown;
        if (type === 'string') value = (await node.getBuffer(key))?.toString('latin1');
        else if (type === 'hash') value = await node.hgetall(key);
        else if (type === 'set') value = await node.smembers(key);
        else if (type === 'zset') value = await node.zrange(key, 0, -1, 'WITHSCORES');
        else if (type === 'list') value = await node.lrange(key, 0, -1);
        else value = type;
        parts.push(`${key} ${JSON.stringify(value)}`);
      }
    } while (cursor !== '0');
  }
  return parts.join('\n');
}

/** Delete every key under `*prefix*`, on every master. */
async function deleteRedis(client: Redis | Cluster, prefix: string): Promise<void> {
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) await node.unlink(k);
    } while (cursor !== '0');
  }
}

export const redisKind: StoreKind = {
  name: 'redis',
  available: () => redisAvailable(),
  async open() {
    const prefix = `tessera-rel-${suffix()}`;
    const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    await client.connect();
    return {
      name: 'redis',
      url: `${REDIS_URL}?prefix=${prefix}`,
      dump: () => dumpRedis(client, prefix),
      async cleanup() {
        await deleteRedis(client, prefix);
        await client.quit();
      },
    };
  },
};

export const redisClusterKind: StoreKind = {
  name: 'redis-cluster',
  available: () => redisBinariesAvailable(),
  async open() {
    const cluster = await startRedisCluster({ masters: 3 });
    const prefix = `tessera-rel-${suffix()}`;
    const { Cluster: ClusterCtor } = await import('ioredis');
    const client = new ClusterCtor(cluster.nodes.slice(), { redisOptions: {} });
    client.on('error', () => {});
    return {
      name: 'redis-cluster',
      url: `${cluster.url}?prefix=${prefix}`,
      dump: () => dumpRedis(client, prefix),
      async cleanup() {
        await client.quit().catch(() => {});
        await cluster.stop();
      },
    };
  },
};

export const dynamoKind: StoreKind = {
  name: 'dynamodb',
  available: async () => true,
  async open() {
    const dyn: TestDynamo = await startTestDynamo();
    const table = uniqueTableName('tessera-rel');
    const client = dyn.client();
    return {
      name: 'dynamodb',
      url: `dynamodb:${table}?region=us-east-1&endpoint=${encodeURIComponent(dyn.endpoint)}`,
      async dump() {
        const parts: string[] = [];
        const tables = [table];
        for (const name of tables) {
          let start: Record<string, unknown> | undefined;
          do {
            const page = await client.send(
              new ScanCommand({
                TableName: name,
                ...(start ? { ExclusiveStartKey: start as never } : {}),
              }),
            );
            for (const item of page.Items ?? [])
              parts.push(
                JSON.stringify(item, (_k, v) =>
                  v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
                ),
              );
            start = page.LastEvaluatedKey;
          } while (start !== undefined);
        }
        return parts.join('\n');
      },
      async cleanup() {
        client.destroy();
        await dyn.close();
      },
    };
  },
};

/** Every backend the service runs on with more than one instance (memory is per-process). */
export const SHARED_KINDS: readonly StoreKind[] = [
  sqliteKind,
  postgresKind,
  redisKind,
  redisClusterKind,
  dynamoKind,
];

/** Probe `kind` and apply the missing-backend rule; returns whether its tests run. */
export async function gateKind(kind: StoreKind, suite: string): Promise<boolean> {
  return gateBackend(kind.name, await kind.available(), [`${suite}: ${kind.name}`]);
}
