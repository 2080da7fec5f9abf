/**
 * Translation of better-sqlite3 failures into Tessera's typed store errors, so
 * every failure reaches the caller fail-closed and with a stable code.
 * @module
 */
import { StoreError, StoreUnavailableError, TesseraError } from '../../core/errors.js';

/** Result codes (primary, before the `_` extension) that mean "cannot reach the data now". */
const UNAVAILABLE_CODES = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_PROTOCOL',
  'SQLITE_NOTADB',
]);

function primaryCode(code: string): string {
  const m = /^SQLITE_[A-Z]+/.exec(code);
  return m ? m[0] : code;
}

/**
 * Map anything a SQLite operation threw to a Tessera error:
 * - a {@link TesseraError} (such as `InvalidInputError` from validation) passes through unchanged;
 * - `SQLITE_BUSY`/`SQLITE_LOCKED` (after the busy timeout), `SQLITE_CANTOPEN`, `SQLITE_IOERR*`,
 *   `SQLITE_FULL` and a closed connection become `StoreUnavailableError`;
 * - any other error becomes `StoreError`, with the original as `cause`.
 *
 * @param err - what was thrown
 * @param operation - the store method, for the message (`put`, `migrate`, ...)
 * @param isOpen - whether the connection is still open (a closed one is "unavailable")
 * @example `catch (err) { throw toStoreError(err, 'put', db.open); }`
 */
export function toStoreError(err: unknown, operation: string, isOpen = true): TesseraError {
  if (err instanceof TesseraError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    if (UNAVAILABLE_CODES.has(primaryCode(code))) {
      return new StoreUnavailableError(`SQLite ${operation} failed: ${code}: ${detail}`, {
        cause: err,
      });
    }
    const hint = /no such table/i.test(detail) ? ' (did you run migrate()?)' : '';
    return new StoreError(`SQLite ${operation} failed: ${code}: ${detail}${hint}`, { cause: err });
  }
  if (!isOpen) {
    return new StoreUnavailableError(`SQLite ${operation} failed: the database is closed`, {
      cause: err,
    });
  }
  return new StoreError(`SQLite ${operation} failed: ${detail}`, { cause: err });
}
