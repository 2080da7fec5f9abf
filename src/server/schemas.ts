/**
 * Schemas shared by every route: the error body, and small building blocks.
 * Response schemas are plain `z.object`s, which drop unknown fields when a
 * reply is serialised, so a field the domain adds later (a hash, say) never
 * reaches a client unless a schema names it.
 * @module
 */
import { z } from '@hono/zod-openapi';

/** The error body of every failed request. */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'ERR_TESSERA_INVALID_INPUT' }),
      message: z.string().openapi({ example: 'owner: must be 1..512 characters' }),
      field: z.string().optional().openapi({ description: 'The offending field, when known.' }),
    }),
  })
  .openapi('Error', {
    description:
      'Every error. `code` is stable (ERR_TESSERA_*); `message` is for people and may change.',
  });

/** A JSON object payload. */
export const JsonObjectSchema = z
  .record(z.string(), z.unknown())
  .openapi('JsonObject', { description: 'Any JSON object.' });

/** Milliseconds since the Unix epoch. */
export const EpochMs = z
  .number()
  .int()
  .nonnegative()
  .openapi({ description: 'Milliseconds since the Unix epoch.', example: 1767225600000 });

/** A failed verification, generic unless the service exposes reasons. */
export const InvalidResultSchema = z.object({
  valid: z.literal(false),
  reason: z.string().optional().openapi({
    description:
      'Why it failed; only when the service runs with --expose-reasons (otherwise failures are indistinguishable, so nothing tells whether a token exists).',
  }),
  retryAfterSeconds: z.number().int().optional(),
});

/** `{ status: "ok" }` health answer. */
export const HealthSchema = z.object({ status: z.string() }).openapi('Health');
