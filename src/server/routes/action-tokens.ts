/**
 * `/v1/action-tokens`: create, use, peek and drain over HTTP. Owners and
 * actions can hold any characters, so they travel in JSON bodies, not paths.
 * @module
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type {
  ActionToken,
  ActionTokens,
  CreateInput,
  UseInput,
} from '../../action-tokens/index.js';
import type { JsonObject } from '../../stores/contract.js';
import { SERVICE_ROLES } from '../roles.js';
import { defineRoute, type RouteRuntime, type ServiceEnv, z } from '../route.js';
import { EpochMs, InvalidResultSchema, JsonObjectSchema } from '../schemas.js';
import { verifyAnswer } from './verify-answer.js';

const Name = z.string().min(1).max(256);

const ActionTokenSchema = z
  .object({
    owner: z.string(),
    action: z.string(),
    remainingUses: z.number().int(),
    createdAt: EpochMs,
    expiresAt: EpochMs,
    lookup: z.boolean(),
    data: JsonObjectSchema.optional(),
  })
  .openapi('ActionToken', { description: 'An action token: never its value, never its hash.' });

const CreateSchema = z
  .strictObject({
    owner: Name,
    action: Name,
    value: z.string().min(1).max(1024).optional().openapi({
      description: 'The value to store (its HMAC). Omit to have one generated.',
    }),
    generate: z
      .discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('code'), length: z.number().int().optional() }),
        z.strictObject({ kind: z.literal('secret'), bytes: z.number().int().optional() }),
      ])
      .optional()
      .openapi({ description: 'How to generate the value (default: a 256-bit secret).' }),
    remainingUses: z.number().int().optional(),
    ttlSeconds: z.number().int().optional(),
    expiresAt: EpochMs.optional(),
    data: JsonObjectSchema.optional(),
    overwrite: z.boolean().optional(),
    lookup: z.boolean().optional(),
    throttle: z
      .strictObject({
        windowSeconds: z.number().int(),
        limit: z.number().int().optional(),
        id: Name.optional(),
        also: z
          .array(
            z.strictObject({
              id: Name,
              windowSeconds: z.number().int(),
              limit: z.number().int().optional(),
            }),
          )
          .max(4)
          .optional(),
      })
      .optional(),
  })
  .openapi('ActionTokenCreate');

const UseSchema = z
  .strictObject({
    owner: Name.optional().openapi({
      description: 'Omit to use a lookup token (magic link) by its value alone.',
    }),
    action: Name,
    value: z.string().min(1).max(1024),
    drainWhenValid: z.boolean().optional(),
  })
  .openapi('ActionTokenUse');

const OwnerAction = z.strictObject({ owner: Name, action: Name }).openapi('OwnerAction');

function tokenJson(t: ActionToken) {
  return {
    owner: t.owner,
    action: t.action,
    remainingUses: t.remainingUses,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lookup: t.lookup,
    ...(t.data === undefined ? {} : { data: t.data as JsonObject }),
  };
}

const roles = [SERVICE_ROLES.actionTokens];
const tags = ['Action tokens'];

/** Mount the action-token routes. */
export function mountActionTokenRoutes(
  app: OpenAPIHono<ServiceEnv>,
  rt: RouteRuntime,
  tokens: ActionTokens,
): void {
  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/action-tokens',
    operationId: 'createActionToken',
    summary: 'Create an action token',
    description:
      'Returns the value once (`Cache-Control: no-store`). 409 when a live token exists for the owner and action (unless `overwrite`); 429 with `Retry-After` when a throttle window is full.',
    tags,
    auth: { roles },
    body: CreateSchema,
    errors: [409],
    responses: {
      201: {
        description: 'Created; `value` is shown this once.',
        schema: z.object({ token: ActionTokenSchema, value: z.string() }),
      },
    },
  })(async (_c, { body }) => {
    const { token, value } = await tokens.create(body as CreateInput);
    return {
      status: 201,
      body: { token: tokenJson(token), value },
      headers: { 'cache-control': 'no-store' },
    };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/action-tokens/use',
    operationId: 'useActionToken',
    summary: 'Use (verify) an action token',
    description:
      'Every use, right or wrong, takes one attempt. A failure answers `{"valid": false}` whatever the reason (the reason is logged and counted in metrics).',
    tags,
    auth: { roles },
    body: UseSchema,
    responses: {
      200: {
        description: 'The outcome.',
        schema: z.union([
          z.object({ valid: z.literal(true), token: ActionTokenSchema }),
          InvalidResultSchema,
        ]),
      },
    },
  })(async (_c, { body }) => {
    const r = await tokens.tryUse(body as UseInput);
    rt.metrics.verify('action_token', r.valid, r.valid ? 'valid' : r.reason);
    if (r.valid) return { status: 200, body: { valid: true, token: tokenJson(r.token) } };
    return { status: 200, body: verifyAnswer(rt, r.reason, r.retryAfterSeconds) };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/action-tokens/peek',
    operationId: 'peekActionToken',
    summary: 'Read an action token without using it',
    tags,
    auth: { roles },
    body: OwnerAction,
    errors: [404],
    responses: {
      200: { description: 'The token.', schema: z.object({ token: ActionTokenSchema }) },
    },
  })(async (_c, { body }) => {
    const token = await tokens.peek(body);
    return { status: 200, body: { token: tokenJson(token) } };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/action-tokens/drain',
    operationId: 'drainActionToken',
    summary: 'Delete an action token',
    description:
      'Deletes the token of the owner and action, live or expired, so no value can be used any more (its failure count goes with it). `drained` tells whether there was one.',
    tags,
    auth: { roles },
    body: OwnerAction,
    responses: {
      200: {
        description: 'Whether a token (live or expired) was deleted.',
        schema: z.object({ drained: z.boolean() }),
      },
    },
  })(async (_c, { body }) => ({ status: 200, body: { drained: await tokens.drain(body) } }));
}
