/**
 * Requests sent with node:http, for what fetch cannot do: bodies with
 * `Transfer-Encoding: chunked` (no `Content-Length`) in pieces, or a flood of
 * bytes that stops as soon as the server answers (fetch cannot tell when the
 * answer came relative to the upload); and requests from another loopback
 * address (`localAddress`, e.g. 127.0.0.2), for per-client throttling.
 */
import { request } from 'node:http';

/** What a chunked request gave. */
export interface ChunkedResult {
  readonly response: Response;
  /** Bytes of body written before the answer came (or all of them). */
  readonly sentBytes: number;
  /** Whether the answer came while the client was still sending. */
  readonly answeredWhileSending: boolean;
  /**
   * Growth of this process's `heapUsed + arrayBuffers` from the start of the
   * request to the answer, bytes (the server runs in this process).
   */
  readonly memoryGrowthBytes: number;
}

/** The body of a request sent with node:http. */
export type ChunkedBody =
  /** One piece, sent with `Content-Length`. */
  | { readonly whole: string }
  /** These pieces, each written as one chunk. */
  | { readonly pieces: readonly string[] }
  /** `{"state":"aaaa…` in 64 KiB chunks, up to `bytes`; never completed if answered first. */
  | { readonly floodBytes: number };

const FLOOD_CHUNK = Buffer.alloc(64 * 1024, 0x61);

function heapAndBuffers(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Send a request and collect the answer.
 * @param url - absolute URL
 * @param headers - request headers (content-length only for `whole` bodies)
 * @param localAddress - the client address to send from (default: the system's choice)
 */
export function sendChunked(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: ChunkedBody,
  localAddress?: string,
): Promise<ChunkedResult> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const before = heapAndBuffers();
    let sent = 0;
    let ended = false;
    let answered = false;
    const req = request({
      host: u.hostname,
      port: u.port,
      path: `${u.pathname}${u.search}`,
      method,
      headers:
        'whole' in body
          ? { ...headers, 'content-length': String(Buffer.byteLength(body.whole)) }
          : headers,
      ...(localAddress !== undefined ? { localAddress } : {}),
    });
    req.on('response', (res) => {
      answered = true;
      const growth = heapAndBuffers() - before;
      const stillSending = !ended;
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        req.destroy();
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
        }
        const text = Buffer.concat(parts).toString('utf8');
        resolve({
          response: new Response(text === '' ? null : text, {
            status: res.statusCode ?? 0,
            headers: out,
          }),
          sentBytes: sent,
          answeredWhileSending: stillSending,
          memoryGrowthBytes: growth,
        });
      });
      res.on('error', reject);
    });
    // Once answered, the server may close while we write: that is not a failure.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if ('whole' in body) {
      sent = Buffer.byteLength(body.whole);
      ended = true;
      req.end(body.whole);
      return;
    }
    if ('pieces' in body) {
      for (const p of body.pieces) {
        sent += Buffer.byteLength(p);
        req.write(p);
      }
      ended = true;
      req.end();
      return;
    }
    req.write('{"state":"');
    const pump = () => {
      while (!answered && sent < body.floodBytes) {
        sent += FLOOD_CHUNK.length;
        if (!req.write(FLOOD_CHUNK)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered && !ended) {
        ended = true;
        req.end('"}');
      }
    };
    pump();
  });
}
