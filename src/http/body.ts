/**
 * Request bodies for every adapter, parsed the same way: JSON
 * (`application/json`, `*+json`) and forms (`application/x-www-form-urlencoded`);
 * other types count as no body.
 * @module
 */
import { MALFORMED_BODY } from './types.js';

/** Largest body the adapters read, bytes (100 KiB, Express's default). */
export const BODY_LIMIT_BYTES = 102_400;

/** The media type of a `Content-Type` value, lower-case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Whether the adapters read bodies of this type. */
export function isParsedType(contentType: string | undefined): boolean {
  const t = mediaType(contentType);
  return (
    t === 'application/json' || t.endsWith('+json') || t === 'application/x-www-form-urlencoded'
  );
}

/**
 * A form as an object without a prototype: each field once as a string,
 * repeated fields as arrays (`+` is a space, `%XX` decoded, as browsers do).
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
