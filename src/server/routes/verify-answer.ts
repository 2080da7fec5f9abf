/**
 * The answer to a failed verification: `{ valid: false }` whatever the reason,
 * so a caller cannot tell a missing token from a wrong value, unless the
 * service runs with `--expose-reasons`. The precise reason always goes to the
 * metrics (`tessera_verify_total`) and the debug log.
 * @module
 */
import type { RouteRuntime } from '../route.js';

/** Build the body of a failed verification. */
export function verifyAnswer(
  rt: RouteRuntime,
  reason: string,
  retryAfterSeconds?: number,
): { valid: false; reason?: string; retryAfterSeconds?: number } {
  if (!rt.exposeReasons) return { valid: false };
  return {
    valid: false,
    reason,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  };
}
