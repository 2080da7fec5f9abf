/**
 * What a request to a service that died under it may fail with: the
 * connection refused, reset or closed before the answer was read. `fetch`
 * wraps these in `TypeError: fetch failed` (or `terminated` when the body was
 * cut), so the cause chain is read; a `fetch failed` without such a cause,
 * and any other error, is not a dropped connection.
 */

/** Error codes of a connection that was refused, reset or closed by the peer. */
const CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET']);
/** Messages of the same, for errors that carry no code. */
const MESSAGES = /socket hang up|other side closed|ECONNRESET|ECONNREFUSED/;

/** The error and its causes, outermost first (at most 8 deep). */
function chain(err: unknown): Array<{ name: string; code?: string; message: string }> {
  const out: Array<{ name: string; code?: string; message: string }> = [];
  let e: unknown = err;
  while (e !== undefined && e !== null && out.length < 8) {
    if (typeof e !== 'object') {
      out.push({ name: typeof e, message: String(e) });
      break;
    }
    const o = e as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };
    out.push({
      name: typeof o.name === 'string' ? o.name : 'Error',
      ...(typeof o.code === 'string' ? { code: o.code } : {}),
      message: typeof o.message === 'string' ? o.message : String(e),
    });
    e = o.cause;
  }
  return out;
}

/** A one-line description of any thrown value with its causes, for failure messages. */
export function describeError(err: unknown): string {
  return chain(err)
    .map((c) => `${c.name}${c.code === undefined ? '' : ` ${c.code}`}: ${c.message}`)
    .join(' <- ');
}

/**
 * The label of `err` (its connection code, or `socket hang up`) when it is a
 * refused, reset or closed connection anywhere down its cause chain;
 * `null` for any other error.
 */
export function connectionError(err: unknown): string | null {
  for (const c of chain(err)) {
    if (c.code !== undefined && CODES.has(c.code)) return c.code;
    const m = MESSAGES.exec(c.message);
    if (m !== null) return m[0];
  }
  return null;
}
