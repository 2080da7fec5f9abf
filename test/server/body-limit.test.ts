/**
 * Request bodies over the limit are refused while they stream in: a chunked
 * body (no Content-Length) that never ends gets its 413 after about the
 * limit, on every route that reads a body, and the service stays up.
 */
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RequestBodyError } from '../../src/http/body.js';
import { errorAnswer } from '../../src/server/http-errors.js';
import { call, createHarness, type Json } from './helpers.js';

const h = createHarness();
afterEach(() => h.stopAll());
afterAll(() => h.cleanup());

const CHUNK = Buffer.alloc(16 * 1024, 'a');
/** Give up (and fail) once this much was sent without an answer. */
const MAX_SENT = 32 * 1024 * 1024;

/**
 * POST an endless chunked body until the server answers.
 * @returns the status and how many bytes had been sent when the answer came
 */
function endlessPost(
  url: string,
  path: string,
  contentType: string,
  credential?: string,
): Promise<{ status: number | null; sent: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(`${url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        'transfer-encoding': 'chunked',
        ...(credential ? { authorization: `Bearer ${credential}` } : {}),
      },
    });
    req.on('response', (res) => {
      answered = true;
      const status = res.statusCode ?? null;
      const connection = res.headers.connection;
      res.resume();
      req.destroy();
      resolve({ status, sent, connection });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const pump = () => {
      while (!answered && sent < MAX_SENT) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) {
        req.destroy();
        resolve({ status: null, sent, connection: undefined });
      }
    };
    req.flushHeaders();
    pump();
  });
}

describe('request bodies over the limit', () => {
  it('answers 413 to an endless chunked body on every OAuth, seed and /v1 route, and stays up', async () => {
    const { svc, admin } = await h.start({ args: ['--body-limit', '65536'] });
    const form = 'application/x-www-form-urlencoded';
    const json = 'application/json';
    for (const [path, type] of [
      ['/auth/token', form],
      ['/auth/token', json],
      ['/auth/introspect', form],
      ['/auth/revoke', form],
      ['/admin/tokens', json],
      ['/admin/tokens/batch', json],
      ['/v1/action-tokens', json],
    ] as const) {
      const r = await endlessPost(svc.url, path, type, path.startsWith('/v1') ? admin : undefined);
      expect(r.status, `${path} (${type})`).toBe(413);
      // The rest of the body is not drained: the connection closes.
      expect(r.connection, path).toBe('close');
      // Answered after about the limit (plus socket buffers), not after reading everything.
      expect(r.sent, path).toBeLessThan(8 * 1024 * 1024);
      expect((await call(svc, 'GET', '/healthz')).status).toBe(200);
    }
  }, 60_000);

  it('reads bodies with the shared reader: gzip inflated and bounded after inflation, other encodings 415', async () => {
    const { svc, admin } = await h.start({ args: ['--body-limit', '65536'] });
    const post = (path: string, body: Buffer, encoding: string) =>
      fetch(`${svc.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': encoding,
          authorization: `Bearer ${admin}`,
        },
        body,
      });
    const ok = await post(
      '/v1/action-tokens',
      gzipSync(JSON.stringify({ owner: 'u', action: 'a' })),
      'gzip',
    );
    expect(ok.status).toBe(201);
    // 10 MB of zeros compress to about 10 KB: refused once 64 KiB are inflated.
    const bomb = gzipSync(Buffer.from(`{"owner":"${'0'.repeat(10_000_000)}"}`));
    expect(bomb.length).toBeLessThan(65_536);
    for (const path of ['/v1/action-tokens', '/auth/token']) {
      const big = await post(path, bomb, 'gzip');
      expect(big.status, path).toBe(413);
      expect(((await big.json()) as Json).error.code, path).toBe('ERR_TESSERA_BODY_TOO_LARGE');
    }
    const odd = await post('/v1/action-tokens', Buffer.from('{}'), 'compress');
    expect(odd.status).toBe(415);
    expect(((await odd.json()) as Json).error.code).toBe('ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE');
    expect((await call(svc, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers the body errors with their status and stable code', () => {
    expect(errorAnswer(new RequestBodyError('too_large', 'Body exceeds 10 bytes.'))).toEqual({
      status: 413,
      headers: { connection: 'close' },
      body: { error: { code: 'ERR_TESSERA_BODY_TOO_LARGE', message: 'Body exceeds 10 bytes.' } },
    });
    expect(errorAnswer(new RequestBodyError('aborted'))).toEqual({
      status: 400,
      headers: {},
      body: { error: { code: 'ERR_TESSERA_BODY_ABORTED', message: 'Request body aborted' } },
    });
  });
});
