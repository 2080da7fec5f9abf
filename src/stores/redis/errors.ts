/**
 * Translation of ioredis and Redis failures into Tessera's typed store errors,
 * so every failure reaches the caller fail-closed and with a stable code.
 * @module
 */
import {
  InvalidInputError,
  StoreError,
  StoreUnavailableError,
  TesseraError,
} from '../../core/errors.js';

/** Reply errors (by their first word) that mean "the data cannot be reached now". */
const UNAVAILABLE_REPLIES = new Set([
  'LOADING',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'MASTERDOWN',
  'READONLY',
  'BUSY',
  'NOREPLICAS',
  'MOVED',
  'ASK',
  'OOM',
]);

/** Socket-level error codes. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** Messages and class names ioredis uses when it cannot deliver a command. */
const UNAVAILABLE_MESSAGES = [
  /^Connection is closed/,
  /isn't writeable/,
  /Command timed out/,
  /Cluster isn't ready/,
  /Failed to refresh slots cache/,
  /None of startup nodes is available/,
  /Too many Cluster redirections/,
  /Reached the max retries per request limit/,
  /connect E[A-Z]+/,
];
const UNAVAILABLE_NAMES = new Set([
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
  'AbortError',
  'InterruptError',
]);

/** What Redis 7 appends to errors raised inside a script. */
const SCRIPT_SUFFIX = /\s*script: [0-9a-f]{40}, on @user_script:\d+\.$/;

/** Whether a thrown value is a reply from Redis (as opposed to a connection problem). */
export function isReplyError(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'ReplyError';
}

/**
 * Whether Redis refused a command because its keys span several slots (a
 * Cluster node, or a proxy that enforces slots). Such a command did not run.
 */
export function isCrossSlot(err: unknown): boolean {
  return isReplyError(err) && String((err as Error).message).startsWith('CROSSSLOT');
}

/**
 * Whether an error leaves the outcome of a write unknown: the command may or
 * may not have run (a connection dropped after sending, a timeout). Replies
 * from Redis, including script errors, mean it did not write.
 */
export function isOutcomeUnknown(err: unknown): boolean {
  if (err instanceof TesseraError) return err instanceof StoreUnavailableError;
  return !isReplyError(err);
}

/**
 * Map anything a Redis call threw to a Tessera error:
 * - a {@link TesseraError} passes through unchanged;
 * - a script's `TESSERA_INVALID` reply becomes `InvalidInputError`;
 * - `LOADING`, `CLUSTERDOWN`, `TRYAGAIN`, `MASTERDOWN`, `READONLY`, `BUSY`, `OOM`, ...
 *   replies, refused or closed connections, timeouts, a disabled offline queue
 *   and cluster routing failures become `StoreUnavailableError`;
 * - any other error becomes `StoreError`, with the original as `cause`.
 *
 * @param err - what was thrown
 * @param operation - the store method, for the message (`put`, `list`, ...)
 * @example `catch (err) { throw toStoreError(err, 'put'); }`
 */
export function toStoreError(err: unknown, operation: string): TesseraError {
  if (err instanceof TesseraError) return err;
  const e = err as { message?: unknown; name?: unknown; code?: unknown } | null;
  const message = (typeof e?.message === 'string' ? e.message : String(err)).replace(
    SCRIPT_SUFFIX,
    '',
  );
  if (isReplyError(err)) {
    const m = /^TESSERA_INVALID (\S+) (.*)$/s.exec(message);
    if (m) return new InvalidInputError(m[2] as string, m[1] as string);
    if (message.startsWith('TESSERA_MALFORMED')) {
      return new StoreError(`Redis ${operation} failed: ${message}`, { cause: err });
    }
    const word = message.split(/\s/, 1)[0] ?? '';
    if (UNAVAILABLE_REPLIES.has(word)) {
      return new StoreUnavailableError(`Redis ${operation} failed: ${message}`, { cause: err });
    }
    return new StoreError(`Redis ${operation} failed: ${message}`, { cause: err });
  }
  const unavailable =
    (typeof e?.code === 'string' && UNAVAILABLE_CODES.has(e.code)) ||
    (typeof e?.name === 'string' && UNAVAILABLE_NAMES.has(e.name)) ||
    UNAVAILABLE_MESSAGES.some((re) => re.test(message));
  if (unavailable) {
    return new StoreUnavailableError(`Redis ${operation} failed: ${message}`, { cause: err });
  }
  return new StoreError(`Redis ${operation} failed: ${message}`, { cause: err });
}
