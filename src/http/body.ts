/**
 * Request bodies for every adapter, read with the same bound and parsed the
 * same way: JSON (`application/json`, `*+json`) and forms
 * (`application/x-www-form-urlencoded`); other types count as no body.
 * Readers stop at the first byte past {@link BODY_LIMIT_BYTES}, whether or not
 * the request declared a `Content-Length`, so a chunked body never costs more
 * memory than the limit.
 * @module
 */
import { TesseraError, type TesseraErrorCode } from '../core/errors.js';
import { MALFORMED_BODY } from './types.js';

/** Largest body the adapters read, bytes (100 KiB, Express's default). */
export const BODY_LIMIT_BYTES = 102_400;

/**
 * Outcome of reading a body with a bound: the text (UTF-8), or why there is
 * none: `too_large` (more than the limit was declared or sent; reading
 * stopped there) or `aborted` (the client went away or the stream failed).
 */
export type BodyRead =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly reason: 'too_large' | 'aborted' };

/** Why a request body could not be read (see {@link BodyRead} and `NodeBodyRead`). */
export type RequestBodyFailure = 'too_large' | 'aborted' | 'unsupported_encoding';

/** Codes of {@link RequestBodyError}. */
export type RequestBodyErrorCode = Extract<
  TesseraErrorCode,
  'ERR_TESSERA_BODY_TOO_LARGE' | 'ERR_TESSERA_BODY_ABORTED' | 'ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE'
>;

const FAILURES: Readonly<
  Record<
    RequestBodyFailure,
    { code: RequestBodyErrorCode; status: 413 | 400 | 415; message: string }
  >
> = {
  too_large: { code: 'ERR_TESSERA_BODY_TOO_LARGE', status: 413, message: 'Request body too large' },
  aborted: { code: 'ERR_TESSERA_BODY_ABORTED', status: 400, message: 'Request body aborted' },
  unsupported_encoding: {
    code: 'ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    message: 'Unsupported Content-Encoding',
  },
};

/**
 * A request body that could not be read: over the limit
 * (`ERR_TESSERA_BODY_TOO_LARGE`, answer 413), cut off by the client
 * (`ERR_TESSERA_BODY_ABORTED`, answer 400), or in a `Content-Encoding` the
 * reader cannot inflate (`ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE`, answer 415).
 * A {@link TesseraError}, so `isTesseraError(err, 'ERR_TESSERA_BODY_TOO_LARGE')` finds it.
 */
export class RequestBodyError extends TesseraError {
  /** Stable code. */
  declare readonly code: RequestBodyErrorCode;
  /** The HTTP status to answer with. */
  readonly status: 413 | 400 | 415;
  /** Why the body could not be read. */
  readonly reason: RequestBodyFailure;

  /**
   * @param reason - why the body could not be read
   * @param message - human-readable message (default: `Request body too large`,
   *   `Request body aborted`, `Unsupported Content-Encoding`)
   */
  constructor(reason: RequestBodyFailure, message?: string) {
    const f = FAILURES[reason];
    super(f.code, message ?? f.message);
    this.status = f.status;
    this.reason = reason;
  }
}

/**
 * Whether a declared `Content-Length` is over the limit (an absent or
 * malformed value is not: the reader counts the bytes as they come).
 *
 * @param contentLength - the header value
 * @param limitBytes - the bound, bytes (default {@link BODY_LIMIT_BYTES})
 * @example `declaredTooLarge('200000') // true`
 */
export function declaredTooLarge(
  contentLength: string | undefined,
  limitBytes: number = BODY_LIMIT_BYTES,
): boolean {
  if (contentLength === undefined || !/^\d+$/.test(contentLength.trim())) return false;
  return Number(contentLength.trim()) > limitBytes;
}

/**
 * Collects chunks up to a bound: `push` returns false (and keeps nothing
 * more) once more than `limitBytes` came; `end` returns the UTF-8 text (a
 * leading byte order mark dropped, as `TextDecoder` does). The bytes are
 * decoded once at the end, so a character split across chunks is whole.
 * @param limitBytes - the bound, bytes (default {@link BODY_LIMIT_BYTES})
 * @example
 * ```ts
 * const text = createBoundedText(10);
 * text.push(new TextEncoder().encode('{"a":1}')); // true
 * text.end(); // '{"a":1}'
 * ```
 */
export function createBoundedText(limitBytes: number = BODY_LIMIT_BYTES): {
  push(chunk: Uint8Array): boolean;
  end(): string;
} {
  const chunks: Uint8Array[] = [];
  let size = 0;
  return {
    push(chunk) {
      size += chunk.byteLength;
      if (size > limitBytes) return false;
      chunks.push(chunk);
      return true;
    },
    end() {
      if (chunks.length === 0) return '';
      const first = chunks[0] as Uint8Array;
      const bytes =
        chunks.length === 1
          ? Buffer.from(first.buffer, first.byteOffset, first.byteLength)
          : Buffer.concat(chunks, size);
      const text = bytes.toString('utf8');
      return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    },
  };
}

/**
 * Read a WHATWG stream (a `Request` body) as UTF-8 text, at most `limitBytes`:
 * chunk by chunk, cancelling the stream at the first chunk past the limit.
 *
 * @param stream - the body stream (`null`: an empty body)
 * @param limitBytes - the bound, bytes (default {@link BODY_LIMIT_BYTES})
 * @returns the text, or `too_large` / `aborted` (a stream error)
 * @example
 * ```ts
 * const r = await readWebBody(request.body);
 * if (!r.ok) return new Response(null, { status: r.reason === 'too_large' ? 413 : 400 });
 * ```
 */
export async function readWebBody(
  stream: ReadableStream<Uint8Array> | null,
  limitBytes: number = BODY_LIMIT_BYTES,
): Promise<BodyRead> {
  if (stream === null) return { ok: true, text: '' };
  const bounded = createBoundedText(limitBytes);
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { ok: true, text: bounded.end() };
      if (!bounded.push(value)) {
        reader.cancel().catch(() => {});
        return { ok: false, reason: 'too_large' };
      }
    }
  } catch {
    return { ok: false, reason: 'aborted' };
  } finally {
    reader.releaseLock();
  }
}

/**
 * The media type of a `Content-Type` value, lower-case, without parameters.
 * @param contentType - the header value (absent: `''`)
 * @example `mediaType('Application/JSON; charset=utf-8') // 'application/json'`
 */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Whether the adapters read bodies of this type (JSON, `*+json`, forms).
 * @param contentType - the `Content-Type` header value
 * @example `isParsedType('text/plain') // false`
 */
export function isParsedType(contentType: string | undefined): boolean {
  const t = mediaType(contentType);
  return (
    t === 'application/json' || t.endsWith('+json') || t === 'application/x-www-form-urlencoded'
  );
}

/**
 * A form as an object without a prototype: each field once as a string,
 * repeated fields as arrays (`+` is a space, `%XX` decoded, as browsers do).
 * @param raw - the `application/x-www-form-urlencoded` text (or a query string)
 * @example `parseForm('a=1&a=2&b=x+y') // { a: ['1', '2'], b: 'x y' }`
 */
export function parseForm(raw: string): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of new URLSearchParams(raw)) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

/**
 * Parse a raw body by its content type.
 *
 * @param contentType - the `Content-Type` header value
 * @param raw - the body text (absent or `''`: no body)
 * @returns the value, `undefined` for an empty body or another type, or
 *   {@link MALFORMED_BODY} for bad JSON
 * @example `parseBody('application/json', '{"a":1}') // { a: 1 }`
 */
export function parseBody(contentType: string | undefined, raw: string | undefined): unknown {
  if (raw === undefined || raw === '') return undefined;
  const t = mediaType(contentType);
  if (t === 'application/x-www-form-urlencoded') return parseForm(raw);
  if (t === 'application/json' || t.endsWith('+json')) {
    try {
      return JSON.parse(raw);
    } catch {
      return MALFORMED_BODY;
    }
  }
  return undefined;
}
