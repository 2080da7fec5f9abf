/**
 * `tessera/compat/action-tokens/sdk`: a drop-in for `@beesolve/action-tokens/sdk`.
 *
 * `ActionTokensClient` reads its table from the environment variables the
 * `ActionTokens` CDK construct (`tessera/cdk`) sets with `grantAccess(fn)`:
 * - `BEESOLVE_ACTION_TOKENS_TABLE_NAME`: the table;
 * - `BEESOLVE_ACTION_TOKENS_INDEX_NAME`: the prefix of the table's four lookup
 *   indexes (`<prefix>1`..`<prefix>4`; the seed named its one value index here);
 * - `TESSERA_SECRET_ARN`: the ARN (or name) of the Secrets Manager secret
 *   holding the server secret(s) that values are HMAC'd under. The client
 *   fetches it once, at cold start (`GetSecretValue`, with
 *   `@aws-sdk/client-secrets-manager`, an optional peer dependency), so the
 *   value never sits in the function's configuration.
 *
 * For local use (tests, scripts, a server of your own) set `TESSERA_SECRET`
 * to the value itself instead: `id:secret[,id:secret...]` (first active, the
 * others still verify) or one bare secret (key id `k1`), at least 32 bytes
 * each; the secret in Secrets Manager holds the same format. Set one of the
 * two, never both.
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

/**
 * What `ActionTokensClient` needs of a Secrets Manager client: the AWS SDK v3
 * `send`, called with one `GetSecretValueCommand` (`@aws-sdk/client-secrets-manager`).
 * A `SecretsManagerClient` fits; so does anything that answers that command
 * with `{ SecretString }` (the seam tests use).
 */
export interface SecretsManagerSendClient {
  // biome-ignore lint/suspicious/noExplicitAny: SDK commands are generic over their own types
  send(command: any, options?: any): Promise<any>;
  /** Present on SDK clients; called only on a client the client created. */
  destroy?(): void;
}

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
  /**
   * The Secrets Manager client that reads `TESSERA_SECRET_ARN` (default: a
   * new `SecretsManagerClient` with the default credential chain and region,
   * destroyed after the one read). A client passed in is never destroyed.
   */
  readonly secretsManager?: SecretsManagerSendClient;
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
  name: string = ACTION_TOKENS_ENV.secret,
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

/**
 * Read the server secret from Secrets Manager and parse it as
 * {@link keyringFromSecret} does. One `GetSecretValueCommand` for the
 * secret's current version.
 *
 * @param secretId - the secret's ARN or name (`TESSERA_SECRET_ARN`)
 * @param client - a Secrets Manager client (default: a new `SecretsManagerClient`, destroyed after the read)
 * @throws ConfigError when `@aws-sdk/client-secrets-manager` is missing, the
 *   read fails (the cause attached), or the secret holds no usable SecretString
 * @example `const keyring = await keyringFromSecretsManager(process.env.TESSERA_SECRET_ARN!);`
 */
export async function keyringFromSecretsManager(
  secretId: string,
  client?: SecretsManagerSendClient,
): Promise<Keyring> {
  let sdk: typeof import('@aws-sdk/client-secrets-manager');
  try {
    sdk = await import('@aws-sdk/client-secrets-manager');
  } catch (err) {
    throw new ConfigError(
      `${ACTION_TOKENS_ENV.secretArn} needs @aws-sdk/client-secrets-manager: install it (npm i @aws-sdk/client-secrets-manager)`,
      { cause: err },
    );
  }
  const own = client === undefined ? new sdk.SecretsManagerClient({}) : undefined;
  let out: { SecretString?: string };
  try {
    out = await (client ?? (own as SecretsManagerSendClient)).send(
      new sdk.GetSecretValueCommand({ SecretId: secretId }),
    );
  } catch (err) {
    const name = (err as { name?: string })?.name ?? 'Error';
    throw new ConfigError(
      `could not read the server secret ${secretId} from Secrets Manager (${name}); the next call tries again`,
      { cause: err },
    );
  } finally {
    own?.destroy();
  }
  if (typeof out?.SecretString !== 'string') {
    throw new ConfigError(
      `the secret ${secretId} holds no SecretString (binary secrets are not read)`,
    );
  }
  return keyringFromSecret(out.SecretString, `the secret ${secretId}`);
}

/** Where the server secret comes from. */
type SecretSource = { readonly keyring: Keyring } | { readonly secretId: string };

function readEnv(env: Readonly<Record<string, string | undefined>>): {
  tableName: string;
  indexPrefix: string;
  secret: SecretSource;
} {
  const missing = [ACTION_TOKENS_ENV.tableName, ACTION_TOKENS_ENV.indexName].filter(
    (n) => env[n] === undefined || env[n] === '',
  );
  if (missing.length > 0) {
    throw new ConfigError(
      `${NOT_SET_UP}: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set. Call grantAccess() on this function in your CDK stack.`,
    );
  }
  const arn = env[ACTION_TOKENS_ENV.secretArn]?.trim() ?? '';
  const plain = env[ACTION_TOKENS_ENV.secret];
  const hasPlain = plain !== undefined && plain.trim() !== '';
  if (arn !== '' && hasPlain) {
    throw new ConfigError(
      `${ACTION_TOKENS_ENV.secretArn} and ${ACTION_TOKENS_ENV.secret} are both set: set one (the secret's ARN, or for local use the secret itself).`,
    );
  }
  if (arn === '' && !hasPlain) {
    throw new ConfigError(
      `${NOT_SET_UP}: ${ACTION_TOKENS_ENV.secretArn} is not set (the server secret's ARN; grantAccess() sets it), nor ${ACTION_TOKENS_ENV.secret} (the secret itself, for local use).`,
    );
  }
  return {
    tableName: env[ACTION_TOKENS_ENV.tableName] as string,
    indexPrefix: env[ACTION_TOKENS_ENV.indexName] as string,
    secret: arn !== '' ? { secretId: arn } : { keyring: keyringFromSecret(plain) },
  };
}

/**
 * The seed's `ActionTokensClient`: `createNew`, `use`, `peek`, `drain` and
 * `createNewWithThrottling` (see `ActionTokens`, which it wraps, as the seed's
 * client wrapped its model) over the DynamoDB table the environment names.
 * The table exists already (the CDK construct made it), so no `migrate()` is
 * needed.
 *
 * With `TESSERA_SECRET_ARN`, construction starts reading the secret (one
 * `GetSecretValue`), and every call waits for it; `await client.ready()` at
 * module scope does the read during the function's init phase. A failed read
 * fails the calls waiting for it with `ConfigError` and is tried again by the
 * next call.
 *
 * @throws ConfigError (`ERR_TESSERA_CONFIG`) at construction when a variable is missing or malformed
 * @example
 * ```ts
 * import { ActionTokensClient, TokenInvalidError } from 'tessera/compat/action-tokens/sdk';
 * const tokens = new ActionTokensClient();
 * await tokens.ready(); // at cold start
 * await tokens.createNew({ owner: 'u1', action: 'verify-email', value: code, remainingUses: 5,
 *   expiresAt: new Date(Date.now() + 600_000), overwrite: false });
 * ```
 */
export class ActionTokensClient {
  /** The DynamoDB store underneath (`close()` it to release a client it created). */
  readonly store: DynamoStore;
  readonly #clock: Clock | undefined;
  readonly #secretId: string | undefined;
  readonly #secretsManager: SecretsManagerSendClient | undefined;
  #tokens: ActionTokens | undefined;
  #pending: Promise<ActionTokens> | undefined;

  /**
   * @param options - `env` (default `process.env`), `client`, `secretsManager`, `clock`
   */
  constructor(options: ActionTokensClientOptions = {}) {
    const { tableName, indexPrefix, secret } = readEnv(options.env ?? process.env);
    this.store =
      options.client === undefined
        ? createDynamoStore({ tableName, indexPrefix, migrateMode: 'verify' })
        : createDynamoStore({
            client: options.client,
            tableName,
            indexPrefix,
            migrateMode: 'verify',
          });
    this.#clock = options.clock;
    this.#secretsManager = options.secretsManager;
    if ('keyring' in secret) {
      this.#secretId = undefined;
      this.#tokens = new ActionTokens({
        store: this.store,
        keyring: secret.keyring,
        clock: this.#clock,
      });
    } else {
      this.#secretId = secret.secretId;
      this.#pending = this.#load();
    }
  }

  /** Read the secret; a failure is reported to the calls waiting and forgotten, so the next call reads again. */
  #load(): Promise<ActionTokens> {
    const p = keyringFromSecretsManager(this.#secretId as string, this.#secretsManager).then(
      (keyring) => {
        this.#tokens = new ActionTokens({ store: this.store, keyring, clock: this.#clock });
        return this.#tokens;
      },
      (err: unknown) => {
        this.#pending = undefined;
        throw err;
      },
    );
    // Reported to the calls that wait for it, never as an unhandled rejection.
    p.catch(() => undefined);
    return p;
  }

  #ready(): ActionTokens | Promise<ActionTokens> {
    if (this.#tokens !== undefined) return this.#tokens;
    this.#pending ??= this.#load();
    return this.#pending;
  }

  /**
   * Resolve when the server secret is known (at once with `TESSERA_SECRET`).
   * @throws ConfigError when the secret cannot be read or parsed
   */
  async ready(): Promise<void> {
    await this.#ready();
  }

  /** See `ActionTokens.createNew`. */
  async createNew(props: Parameters<ActionTokens['createNew']>[0]) {
    return (await this.#ready()).createNew(props);
  }

  /** See `ActionTokens.createNewWithThrottling`. */
  async createNewWithThrottling(props: Parameters<ActionTokens['createNewWithThrottling']>[0]) {
    return (await this.#ready()).createNewWithThrottling(props);
  }

  /** See `ActionTokens.use`. */
  async use(props: Parameters<ActionTokens['use']>[0]) {
    return (await this.#ready()).use(props);
  }

  /** See `ActionTokens.peek`. */
  async peek(props: Parameters<ActionTokens['peek']>[0]) {
    return (await this.#ready()).peek(props);
  }

  /** See `ActionTokens.drain`. */
  async drain(props: Parameters<ActionTokens['drain']>[0]) {
    return (await this.#ready()).drain(props);
  }
}
