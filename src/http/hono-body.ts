/**
 * The one bounded body reader of a Hono request, shared by the Hono adapter
 * and the service. Under `@hono/node-server` it reads the socket stream
 * (`c.env.incoming`) directly with {@link readNodeBody}, so no web `Request`
 * body is built (`Content-Encoding` gzip, deflate and br are inflated, the
 * limit applying to the inflated bytes); elsewhere, or once another
 * middleware has read the body, it reads the web stream (or Hono's body
 * cache) with {@link readWebBody}. Either way reading stops at the first byte
 * past the limit, declared or not.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { BODY_LIMIT_BYTES, declaredTooLarge, readWebBody } from './body.js';
import { type NodeBodyRead, readNodeBody } from './node-body.js';

/**
 * Read the body of a Hono request as UTF-8 text, at most `limitBytes`.
 * After `too_large` the rest of the body is left unread: answer at once,
 * with `Connection: close`.
 *
 * @param c - the Hono context
 * @param limitBytes - the bound, bytes (default {@link BODY_LIMIT_BYTES})
 * @returns the text, `too_large`, `aborted` (the client went away, or a
 *   corrupt compressed body), or `unsupported_encoding` (Node only)
 * @example
 * ```ts
 * const r = await readHonoBody(c, 65_536);
 * if (!r.ok) throw new RequestBodyError(r.reason === 'too_large' ? 'too_large' : 'aborted');
 * ```
 */
export async function readHonoBody(
  c: Context,
  limitBytes: number = BODY_LIMIT_BYTES,
): Promise<NodeBodyRead> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (
    incoming !== undefined &&
    typeof incoming.on === 'function' &&
    incoming.readableDidRead === false
  ) {
    return readNodeBody(incoming, limitBytes);
  }
  if (declaredTooLarge(c.req.header('content-length'), limitBytes)) {
    return { ok: false, reason: 'too_large' };
  }
  const raw = c.req.raw;
  // A body another middleware already read is cached by Hono (and in memory already).
  if (raw.bodyUsed || Object.keys(c.req.bodyCache).length > 0) {
    return readWebBody(new Response(await c.req.text()).body, limitBytes);
  }
  return readWebBody(raw.body, limitBytes);
}
