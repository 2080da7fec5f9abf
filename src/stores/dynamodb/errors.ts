/**
 * Sending DynamoDB requests: bounded retries with exponential backoff and full
 * jitter for requests DynamoDB refused without applying them (throttling,
 * transaction conflicts), retries of reads on transient failures, and the
 * translation of every failure into Tessera's typed, fail-closed errors.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError, StoreUnavailableError, TesseraError } from '../../core/errors.js';

/** Anything with the AWS SDK v3 `send` method: a `DynamoDBClient` or `DynamoDBDocumentClient`. */
export interface DynamoDBSendClient {
  // biome-ignore lint/suspicious/noExplicitAny: SDK commands are generic over their own types
  send(command: any, options?: any): Promise<any>;
  /** Present on SDK clients; called by `close()` only on a client the store created. */
  destroy?(): void;
}

/** Retry settings for refused (not applied) requests. */
export interface RetryOptions {
  /** Attempts in all, including the first (default 8). */
  readonly maxAttempts?: number;
  /** First backoff ceiling, ms (default 25); doubles per attempt. */
  readonly baseDelayMs?: number;
  /** Largest backoff ceiling, ms (default 2000). */
  readonly maxDelayMs?: number;
}

/** Errors that mean "DynamoDB did not apply this request; try again later". */
const REFUSED = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'LimitExceededException',
  'TransactionInProgressException',
]);

/** Cancellation reasons of a transaction that mean "not applied, retry". */
const REFUSED_REASONS = new Set([
  'None',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** Errors whose outcome is unknown (the write may have applied): retried for reads only. */
const TRANSIENT = new Set([
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'NetworkingError',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

type AwsError = {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: Array<{ Code?: string }>;
  errors?: unknown[];
};

function errorName(err: unknown): string {
  return (err as AwsError | null)?.name ?? '';
}

/** Whether `err` comes from the network (no answer from DynamoDB). */
export function isNetworkError(err: unknown): boolean {
  for (let e = err as AwsError | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
    if (Array.isArray(e.errors) && e.errors.some((x) => isNetworkError(x))) return true;
    e = e.cause as AwsError | undefined;
  }
  return false;
}

/** Whether DynamoDB refused the request without applying it. */
export function isRefused(err: unknown): boolean {
  const name = errorName(err);
  if (REFUSED.has(name)) return true;
  if (name === 'TransactionCanceledException') {
    const reasons = (err as AwsError).CancellationReasons ?? [];
    return (
      reasons.length > 0 &&
      reasons.every((r) => REFUSED_REASONS.has(r.Code ?? 'None')) &&
      reasons.some((r) => r.Code !== undefined && r.Code !== 'None')
    );
  }
  return false;
}

/** Whether the failure is transient but its outcome unknown (retry reads only). */
export function isTransient(err: unknown): boolean {
  if (TRANSIENT.has(errorName(err)) || isNetworkError(err)) return true;
  const status = (err as AwsError | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}

/**
 * Map anything a DynamoDB request threw to a Tessera error:
 * - a {@link TesseraError} passes through;
 * - network failures, timeouts, 5xx answers and throttling that outlived the
 *   retries become `StoreUnavailableError`;
 * - anything else (a missing table, a validation error, access denied)
 *   becomes `StoreError`, with the original as `cause`.
 *
 * @param err - what was thrown
 * @param operation - the store method, for the message
 * @param tableName - the table, for the message
 * @example `catch (err) { throw toStoreError(err, 'put', 'tessera'); }`
 */
export function toStoreError(err: unknown, operation: string, tableName: string): TesseraError {
  if (err instanceof TesseraError) return err;
  const name = errorName(err) || 'Error';
  const detail = err instanceof Error ? err.message : String(err);
  if (isTransient(err) || isRefused(err)) {
    return new StoreUnavailableError(`DynamoDB ${operation} failed: ${name}: ${detail}`, {
      cause: err,
    });
  }
  let hint = '';
  if (name === 'ResourceNotFoundException') {
    hint = ` (table ${tableName}: did you run migrate()?)`;
  } else if (/key element does not match the schema|Missing the key/i.test(detail)) {
    hint = ` (table ${tableName} does not have the key schema this store expects)`;
  }
  return new StoreError(`DynamoDB ${operation} failed: ${name}: ${detail}${hint}`, {
    cause: err,
  });
}

/** A `send` with retries, as every store request goes out. */
export type Sender = <T = Record<string, unknown>>(
  command: unknown,
  options?: { readonly idempotent?: boolean },
) => Promise<T>;

/**
 * Backoff before attempt `attempt + 1` (0-based): full jitter under an
 * exponentially growing ceiling.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.floor(Math.random() * ceiling);
}

/**
 * Wrap a client's `send`: retry refused requests (any operation) and transient
 * failures (idempotent operations only), with backoff; rethrow the last error
 * unchanged (the caller maps it with {@link toStoreError}).
 *
 * @example `const send = createSender(client, {}); const out = await send(new GetItemCommand(input), { idempotent: true });`
 */
export function createSender(client: DynamoDBSendClient, retry: RetryOptions = {}): Sender {
  const maxAttempts = retry.maxAttempts ?? 8;
  const baseMs = retry.baseDelayMs ?? 25;
  const maxMs = retry.maxDelayMs ?? 2000;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError('retry.maxAttempts must be an integer >= 1');
  }
  if (!(baseMs >= 0) || !(maxMs >= baseMs)) {
    throw new RangeError('retry delays must satisfy 0 <= baseDelayMs <= maxDelayMs');
  }
  return async <T>(command: unknown, options?: { idempotent?: boolean }): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await client.send(command)) as T;
      } catch (err) {
        const again =
          attempt + 1 < maxAttempts &&
          (isRefused(err) || (options?.idempotent === true && isTransient(err)));
        if (!again) throw err;
        await sleep(backoffMs(attempt, baseMs, maxMs));
      }
    }
  };
}

/** Whether `err` is DynamoDB's failed-condition answer to a single-item write. */
export function isConditionFailed(err: unknown): boolean {
  return errorName(err) === 'ConditionalCheckFailedException';
}
