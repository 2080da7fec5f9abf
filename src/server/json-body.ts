/**
 * Strict JSON request bodies: `application/json`, an object, known fields only.
 * @module
 */
import type { Context } from 'hono';
import { InvalidInputError } from '../core/errors.js';

/**
 * Read the body as a JSON object with only `allowed` fields.
 * @throws InvalidInputError for another content type, bad JSON, a non-object or an unknown field
 */
export async function readJsonBody(
  c: Context,
  allowed: readonly string[],
): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new InvalidInputError('content-type must be application/json', 'content-type');
  }
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new InvalidInputError('body must be valid JSON', 'body');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidInputError('body must be a JSON object', 'body');
  }
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k))
      throw new InvalidInputError(
        `unknown field ${JSON.stringify(k).slice(0, 80)}`,
        k.slice(0, 80),
      );
  }
  return body as Record<string, unknown>;
}
