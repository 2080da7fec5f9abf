/**
 * Bounded body reading from a Node.js request stream (`http.IncomingMessage`),
 * for the Express adapter: stops at the first byte past the limit, so the
 * route answers 413 while the client is still sending, with memory bounded
 * by the limit; `Content-Encoding` gzip, deflate and br are inflated (as
 * Express's body parsers do), the limit applying to the inflated bytes.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { BODY_LIMIT_BYTES, type BodyRead, createBoundedText, declaredTooLarge } from './body.js';

/** Outcome of {@link readNodeBody}: {@link BodyRead}, or an encoding it cannot inflate. */
export type NodeBodyRead =
  | BodyRead
  | { readonly ok: false; readonly reason: 'unsupported_encoding' };

function decoderFor(encoding: string): Transform | null | undefined {
  if (encoding === 'identity' || encoding === '') return null;
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  if (encoding === 'br') return createBrotliDecompress();
  return undefined;
}

/**
 * Read a Node.js request body as UTF-8 text, at most `limitBytes` (after
 * inflation). On `too_large` the request stream is left paused and unread:
 * answer at once and close the connection (`Connection: close`).
 *
 * @param req - the request stream, not yet read
 * @param limitBytes - the bound, bytes (default {@link BODY_LIMIT_BYTES})
 * @returns the text, `too_large`, `aborted` (the client went away, or a corrupt
 *   compressed body), or `unsupported_encoding`
 * @example
 * ```ts
 * const r = await readNodeBody(req);
 * if (!r.ok && r.reason === 'too_large') res.writeHead(413, { connection: 'close' }).end();
 * ```
 */
export function readNodeBody(
  req: IncomingMessage,
  limitBytes: number = BODY_LIMIT_BYTES,
): Promise<NodeBodyRead> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  const decoder = decoderFor(encoding);
  if (decoder === undefined) return Promise.resolve({ ok: false, reason: 'unsupported_encoding' });
  if (decoder === null && declaredTooLarge(req.headers['content-length'], limitBytes)) {
    return Promise.resolve({ ok: false, reason: 'too_large' });
  }
  if (req.readableEnded) return Promise.resolve({ ok: true, text: '' });
  return new Promise((resolve) => {
    const source: Readable = decoder ?? req;
    const bounded = createBoundedText(limitBytes);
    let settled = false;
    const finish = (r: NodeBodyRead) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      req.off('aborted', onError);
      if (decoder !== null) req.off('error', onError);
      req.off('close', onClose);
      if (decoder !== null) {
        req.unpipe(decoder);
        decoder.destroy();
      }
      if (!r.ok) req.pause();
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      if (!bounded.push(chunk)) finish({ ok: false, reason: 'too_large' });
    };
    const onEnd = () => finish({ ok: true, text: bounded.end() });
    const onError = () => finish({ ok: false, reason: 'aborted' });
    const onClose = () => {
      if (!req.complete) onError();
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    if (decoder !== null) req.on('error', onError);
    req.on('aborted', onError);
    req.on('close', onClose);
    if (decoder !== null) req.pipe(decoder);
  });
}
