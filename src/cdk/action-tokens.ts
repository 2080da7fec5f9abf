/**
 * `ActionTokens`: the drop-in for `@beesolve/action-tokens/cdk`.
 *
 * What it creates differs from the seed on purpose. The seed's table held
 * token values in plaintext (PK `owner`, SK `action`, GSI `valueGsi` on the
 * value). Tessera stores values only as HMACs, so this construct creates a
 * Tessera table (see `TesseraTable`): the `ActionTokensClient` of
 * `tessera/compat/action-tokens/sdk` uses it through the DynamoDB store. Tokens
 * are short-lived: deploy the new table beside the old one and remove the old
 * one when its tokens have expired.
 *
 * It also holds the server secret the values are HMAC'd under: a generated
 * Secrets Manager secret unless you pass your own, handed to functions in
 * `TESSERA_SECRET` (resolved by CloudFormation at deploy time; visible to
 * whoever may read the function's configuration, encrypted at rest by Lambda).
 * @module
 */
import type { SecretValue } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ACTION_TOKENS_ENV, indexNames } from '../stores/dynamodb/table-design.js';
import {
  type GrantAccessOptions,
  type GrantTarget,
  grantTableAccess,
  type TableOptions,
  tableProps,
} from './table-options.js';
import { createTesseraTable } from './tessera-table.js';

/** Props of {@link ActionTokens}: the seed's, plus Tessera's table options. */
export interface ActionTokensProps extends Omit<TableOptions, 'pointInTimeRecovery'> {
  /** Point-in-time recovery (the seed's name; default true). */
  readonly pointInTimeRecoveryEnabled?: boolean;
  /**
   * The server secret (e.g. `SecretValue.secretsManager('tessera/secret')`),
   * as `id:secret[,id:secret...]` or one bare secret of at least 32 bytes.
   * Default: a generated 64-character secret in Secrets Manager.
   */
  readonly secret?: SecretValue;
  /** Prefix of the four lookup index names (default `lookup`). */
  readonly indexPrefix?: string;
}

/**
 * The action-tokens table and server secret.
 *
 * @example
 * ```ts
 * import { ActionTokens } from 'tessera/cdk';
 * const tokens = new ActionTokens(this, 'ActionTokens', {
 *   pointInTimeRecoveryEnabled: isProd,
 *   deletionProtection: isProd,
 *   removalPolicy: isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
 * });
 * tokens.grantAccess(myLambdaFunction);
 * ```
 */
export class ActionTokens extends Construct {
  /** The table. */
  readonly table: dynamodb.Table;
  /** The generated secret, when none was passed in. */
  readonly generatedSecret: secretsmanager.Secret | undefined;
  /** Prefix of the lookup indexes (the value of `BEESOLVE_ACTION_TOKENS_INDEX_NAME`). */
  readonly indexPrefix: string;
  readonly #secret: SecretValue;
  readonly #encryptionKey: TableOptions['encryptionKey'];

  constructor(scope: Construct, id: string, props: ActionTokensProps = {}) {
    super(scope, id);
    this.indexPrefix = props.indexPrefix ?? 'lookup';
    const options: TableOptions = {
      ...props,
      pointInTimeRecovery: props.pointInTimeRecoveryEnabled,
    };
    this.#encryptionKey = props.encryptionKey;
    this.table = createTesseraTable(this, 'Table', options, indexNames(this.indexPrefix));
    if (props.secret === undefined) {
      this.generatedSecret = new secretsmanager.Secret(this, 'ServerSecret', {
        description: 'Tessera server secret: action-token values are HMAC-SHA-256 under it',
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        removalPolicy: tableProps(options).removalPolicy,
        ...(props.encryptionKey === undefined ? {} : { encryptionKey: props.encryptionKey }),
      });
      this.#secret = this.generatedSecret.secretValue;
    } else {
      this.generatedSecret = undefined;
      this.#secret = props.secret;
    }
  }

  /**
   * Grant `fn` least-privilege access to the table and set the variables
   * `ActionTokensClient` reads: `BEESOLVE_ACTION_TOKENS_TABLE_NAME`,
   * `BEESOLVE_ACTION_TOKENS_INDEX_NAME` (the index prefix) and `TESSERA_SECRET`.
   */
  grantAccess(fn: GrantTarget, options?: GrantAccessOptions): iam.Grant {
    fn.addEnvironment(ACTION_TOKENS_ENV.tableName, this.table.tableName);
    fn.addEnvironment(ACTION_TOKENS_ENV.indexName, this.indexPrefix);
    fn.addEnvironment(ACTION_TOKENS_ENV.secret, this.#secret.unsafeUnwrap());
    return grantTableAccess(this.table, fn, this.#encryptionKey, options);
  }
}
