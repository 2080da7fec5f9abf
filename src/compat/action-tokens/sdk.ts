/**
 * `tessera/compat/action-tokens/sdk`: a drop-in for `@beesolve/action-tokens/sdk`.
 *
 * `ActionTokensClient` reads its table from the environment variables the
 * `ActionTokens` CDK construct (`tessera/cdk`) sets with `grantAccess(fn)`:
 * - `BEESOLVE_ACTION_TOKENS_TABLE_NAME`: the table;
 * - `BEESOLVE_ACTION_TOKENS_INDEX_NAME`: the prefix of the table's four lookup
 *   indexes (`<prefix>1`..`<prefix>4`; the seed named its one value index here);
 * - `TESSERA_SECRET`: the server secret(s) that values are HMAC'd under, as
 *   `id:secret[,id:secret...]` (first active, the others still verify) or one
 *   bare secret (key id `k1`), at least 32 bytes each.
 *
 * Differences from the seed, on purpose:
 * - the variables are read when a client is constructed, not when the module
 *   is imported (the seed's import threw in any process without them, e.g. a
 *   test runner or a build step);
 * - the table is a Tessera table (values stored as HMACs, see the
 *   `ActionTokens` construct), so tokens of an old seed table are not read:
 *   they are short-lived, so deploy the new table and let the old one drain;
 * - the error classes are exported here too (the seed's README imported them
 *   from `/sdk`, where they did not exist);
 * - everything `ActionTokens` (the model facade) changes on purpose applies.
 * @module
 */
import type { Clock } from '../../core/clock.js';
import { ConfigError } from '../../core/errors.js';
import { createKeyring, type Keyring } from '../../core/keyring.js';
import { createDynamoStore } from '../../stores/dynamodb/dynamodb-store.js';
import type { DynamoDBSendClient } from '../../stores/dynamodb/errors.js';
import type { DynamoStore } from '../../stores/dynamodb/options.js';
import { ACTION_TOKENS_ENV } from '../../stores/dynamodb/table-design.js';
import { ActionTokens } from './action-tokens.js';

export {
  BaseTokenError,
  ExpiredTokenError,
  MalformedTokenError,
  TokenAlreadyExistsError,
  TokenAlreadyUsedUpError,
  TokenDoesNotExistError,
  TokenInvalidError,
  TokenThrottledError,
  UnexpectedError,
} from './errors.js';

/** Options of {@link ActionTokensClient} (all optional, as the seed's constructor took none). */
export interface ActionTokensClientOptions {
  /** Where the variables are read (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * A `DynamoDBClient` or `DynamoDBDocumentClient` to use (default: a new
   * `DynamoDBClient` with the default credential chain, which honours
   * `AWS_PROFILE` as the seed's `fromIni` did). A client passed in is never destroyed.
   */
  readonly client?: DynamoDBSendClient;
  /** Time source (default: the system clock). */
  readonly clock?: Clock;
}

const NOT_SET_UP = 'It seems that ActionTokens has not been set up correctly';

/**
 * Parse `TESSERA_SECRET`: `id:secret[,id:secret...]` (first active) or one bare secret (id `k1`).
 * @throws ConfigError when it is missing or malformed
 * @example `keyringFromSecret('k2:new-secret...,k1:old-secret...')`
 */
export function keyringFromSecret(
  value: string | undefined,
  name = ACTION_TOKENS_ENV.secret,
): Keyring {
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(
      `${NOT_SET_UP}: ${name} is not set (the server secret; grantAccess() sets it).`,
    );
  }
  const parts = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const keys = parts.map((p) => {
    const m = /^([A-Za-z0-9_-]{1,32}):(.+)$/.exec(p);
    if (m !== null) return { id: m[1] as string, secret: m[2] as string };
    if (parts.length === 1) return { id: 'k1', secret: p };
    throw new ConfigError(`${name} must hold id:secret pairs when it lists several secrets`);
  });
  try {
    return createKeyring({ keys });
  } catch (err) {
    throw new ConfigError(`${name}: ${(err as Error).message}`);
  }
}

function readEnv(env: Readonly<Record<string, string | undefined>>): {
  tableName: string;
  indexPrefix: string;
  keyring: Keyring;
} {
  const missing = [ACTION_TOKENS_ENV.tableName, ACTION_TOKENS_ENV.indexName].filter(
    (n) => env[n] === undefined || env[n] === '',
  );
  if (missing.length > 0) {
    throw new ConfigError(
      `${NOT_SET_UP}: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set. Call grantAccess() on this function in your CDK stack.`,
    );
  }
  return {
    tableName: env[ACTION_TOKENS_ENV.tableName] as string,
    indexPrefix: env[ACTION_TOKENS_ENV.indexName] as string,
    keyring: keyringFromSecret(env[ACTION_TOKENS_ENV.secret]),
  };
}

/**
 * The seed's `ActionTokensClient`: `createNew`, `use`, `peek`, `drain` and
 * `createNewWithThrottling` (see `ActionTokens`) over the DynamoDB table the
 * environment names. The table exists already (the CDK construct made it), so
 * no `migrate()` is needed.
 *
 * @throws ConfigError (`ERR_TESSERA_CONFIG`) at construction when a variable is missing or malformed
 * @example
 * ```ts
 * import { ActionTokensClient, TokenInvalidError } from 'tessera/compat/action-tokens/sdk';
 * const tokens = new ActionTokensClient();
 * await tokens.createNew({ owner: 'u1', action: 'verify-email', value: code, remainingUses: 5,
 *   expiresAt: new Date(Date.now() + 600_000), overwrite: false });
 * ```
 */
export class ActionTokensClient extends ActionTokens {
  /** The DynamoDB store underneath (`close()` it to release a client it created). */
  readonly store: DynamoStore;

  /**
   * @param options - `env` (default `process.env`), `client`, `clock`
   */
  constructor(options: ActionTokensClientOptions = {}) {
    const { tableName, indexPrefix, keyring } = readEnv(options.env ?? process.env);
    const store =
      options.client === undefined
        ? createDynamoStore({ tableName, indexPrefix, migrateMode: 'verify' })
        : createDynamoStore({
            client: options.client,
            tableName,
            indexPrefix,
            migrateMode: 'verify',
          });
    super({ store, keyring, clock: options.clock });
    this.store = store;
  }
}
