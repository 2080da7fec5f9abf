/**
 * Open the DynamoDB store from a URL (for the service and the CLI) or from the
 * environment variables the `TesseraTable` CDK construct sets.
 * @module
 */
import { ConfigError } from '../../core/errors.js';
import { createDynamoStore } from './dynamodb-store.js';
import type { DynamoStore, DynamoStoreEndpointOptions } from './options.js';
import { TESSERA_TABLE_ENV } from './table-design.js';

const PARAMS = new Set(['region', 'endpoint', 'indexPrefix', 'ttlGraceSeconds', 'migrate']);

/**
 * Parse a store URL into store options:
 * `dynamodb://<table>[?region=<r>&endpoint=<url>&indexPrefix=<p>&ttlGraceSeconds=<n>&migrate=create|verify]`
 * (also `dynamodb:<table>?...`). Credentials never go in the URL: the AWS SDK
 * finds them (environment, profile, instance role).
 *
 * @throws ConfigError for another scheme, a missing table or an unknown parameter
 * @example `parseDynamoUrl('dynamodb://tessera?region=eu-west-1')`
 */
export function parseDynamoUrl(url: string): DynamoStoreEndpointOptions & { tableName: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`not a URL: "${url}"`);
  }
  if (u.protocol !== 'dynamodb:') throw new ConfigError(`not a dynamodb: URL: "${url}"`);
  const table = decodeURIComponent(u.host !== '' ? u.host : u.pathname.replace(/^\/+/, ''));
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table)) {
    throw new ConfigError(`the dynamodb: URL must name a table (3..255 of A-Za-z0-9_.-): "${url}"`);
  }
  const out: {
    tableName: string;
    region?: string;
    endpoint?: string;
    indexPrefix?: string;
    ttlGraceSeconds?: number;
    migrateMode?: 'create' | 'verify';
  } = { tableName: table };
  for (const [k, v] of u.searchParams) {
    if (!PARAMS.has(k)) throw new ConfigError(`unknown dynamodb: URL parameter "${k}"`);
    if (k === 'region') out.region = v;
    else if (k === 'endpoint') out.endpoint = v;
    else if (k === 'indexPrefix') out.indexPrefix = v;
    else if (k === 'ttlGraceSeconds') {
      if (!/^\d{1,9}$/.test(v)) throw new ConfigError('ttlGraceSeconds must be a whole number');
      out.ttlGraceSeconds = Number(v);
    } else if (k === 'migrate') {
      if (v !== 'create' && v !== 'verify')
        throw new ConfigError('migrate must be create or verify');
      out.migrateMode = v;
    }
  }
  return out;
}

/**
 * Create a DynamoDB store from a `dynamodb:` URL (see {@link parseDynamoUrl}).
 * The store owns its client. Call `migrate()` before use.
 *
 * @throws ConfigError for a bad URL; TypeError for bad values
 * @example `const store = createDynamoStoreFromUrl('dynamodb://tessera?region=eu-west-1');`
 */
export function createDynamoStoreFromUrl(url: string): DynamoStore {
  return createDynamoStore(parseDynamoUrl(url));
}

/**
 * Create a DynamoDB store from `TESSERA_DYNAMODB_TABLE` (and optionally
 * `TESSERA_DYNAMODB_INDEX_PREFIX`), as `TesseraTable.grantAccess` sets them.
 *
 * @param env - environment (default `process.env`)
 * @throws ConfigError when `TESSERA_DYNAMODB_TABLE` is missing
 * @example `const store = createDynamoStoreFromEnv(); // in a Lambda handler module`
 */
export function createDynamoStoreFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): DynamoStore {
  const tableName = env[TESSERA_TABLE_ENV.tableName];
  if (tableName === undefined || tableName === '') {
    throw new ConfigError(
      `${TESSERA_TABLE_ENV.tableName} is not set: grant the function access with TesseraTable.grantAccess(fn)`,
    );
  }
  const indexPrefix = env[TESSERA_TABLE_ENV.indexPrefix] || undefined;
  return createDynamoStore({ tableName, indexPrefix, migrateMode: 'verify' });
}
