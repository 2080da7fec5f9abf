/**
 * Translation of `pg` failures into Tessera's typed store errors, so every
 * failure reaches the caller fail-closed and with a stable code.
 * @module
 */
import {
  InvalidInputError,
  StoreError,
  StoreUnavailableError,
  TesseraError,
} from '../../core/errors.js';

/** SQLSTATEs after which the same statement may simply run again (nothing was written). */
const RETRYABLE_CODES = new Set(['40001', '40P01']);

/** SQLSTATE classes and codes that mean "cannot reach the data now". */
const UNAVAILABLE_CLASSES = ['08', '53', '57P'];
const UNAVAILABLE_CODES = new Set(['55P03', '57014', '25006']);

/** Node and `pg` socket-level error codes. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

/** Messages `pg` and `pg-pool` use, without a code, for a dead or unusable connection. */
const UNAVAILABLE_MESSAGE =
  /connection terminated|not queryable|timeout exceeded when trying to connect|connection timeout|cannot use a pool after calling end|terminating connection|the database system is (starting up|shutting down|in recovery mode)/i;

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether a failure is a serialization failure or a deadlock, after which the
 * whole statement or transaction was rolled back and may run again.
 * @example `if (isRetryable(err) && attempt < 10) continue;`
 */
export function isRetryable(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/**
 * Whether a failure means the server or the connection is unavailable (as
 * opposed to a statement the server refused).
 * @example `if (isConnectionFailure(err)) client.release(err as Error);`
 */
export function isConnectionFailure(err: unknown): boolean {
  const code = sqlState(err);
  if (code !== undefined) {
    if (SOCKET_CODES.has(code) || UNAVAILABLE_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_CLASSES.some((c) => code.startsWith(c));
  }
  const message = err instanceof Error ? err.message : String(err);
  return UNAVAILABLE_MESSAGE.test(message);
}

/**
 * Map anything a PostgreSQL operation threw to a Tessera error:
 * - a {@link TesseraError} (such as `InvalidInputError` from validation) passes through unchanged;
 * - a refused or lost connection (`ECONNREFUSED`, `ECONNRESET`, `08*`), an administrator or
 *   crash shutdown (`57P01`..`57P03`), a cancelled statement (`57014`), a lock timeout
 *   (`55P03`), too many connections or a full disk (`53*`), a read-only standby (`25006`) and
 *   a pool that cannot connect in time become `StoreUnavailableError`;
 * - a string PostgreSQL cannot store in `jsonb` (a NUL character or a lone surrogate,
 *   `22P05`/`22P02`) and a number out of range (`22003`) become `InvalidInputError`;
 * - any other error becomes `StoreError`, with the original as `cause`.
 *
 * @param err - what was thrown
 * @param operation - the store method, for the message (`put`, `migrate`, ...)
 * @example `catch (err) { throw toStoreError(err, 'put'); }`
 */
export function toStoreError(err: unknown, operation: string): TesseraError {
  if (err instanceof TesseraError) return err;
  const code = sqlState(err);
  const detail = err instanceof Error ? err.message : String(err);
  const prefix = `PostgreSQL ${operation} failed: ${code === undefined ? '' : `${code}: `}`;
  if (isConnectionFailure(err)) {
    return new StoreUnavailableError(`${prefix}${detail}`, { cause: err });
  }
  const pgDetail = (err as { detail?: unknown } | null)?.detail;
  const full = typeof pgDetail === 'string' ? `${detail} ${pgDetail}` : detail;
  if (code === '22P05' || (code === '22P02' && /unicode|surrogate/i.test(full))) {
    return new InvalidInputError(
      `PostgreSQL cannot store this value: ${full} (strings in data must not contain NUL characters or lone surrogates)`,
      'data',
      { cause: err },
    );
  }
  if (code === '22003') {
    return new InvalidInputError(`a number is out of range: ${detail}`, 'data', { cause: err });
  }
  const hint = code === '42P01' || code === '3F000' ? ' (did you run migrate()?)' : '';
  return new StoreError(`${prefix}${detail}${hint}`, { cause: err });
}
