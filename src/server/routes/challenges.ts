/**
 * `/v1/challenges`: throttled challenge tokens over HTTP — create, verify,
 * info, regenerate, remove. Secrets (or sealed tokens) are returned once, at
 * creation or regeneration; a failed verify answers `{ valid: false }`.
 * @module
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type {
  Challenge,
  ChallengeLookup,
  Challenges,
  CreateChallengeInput,
  InfoInput,
  VerifyInput,
} from '../../challenges/index.js';
import { InvalidInputError } from '../../core/errors.js';
import { SERVICE_ROLES } from '../roles.js';
import { defineRoute, type RouteRuntime, type ServiceEnv, z } from '../route.js';
import { EpochMs, InvalidResultSchema } from '../schemas.js';
import { verifyAnswer } from './verify-answer.js';

const Name = z.string().min(1).max(256);
const Token = z.string().min(1).max(4096);

const SecretSettingsSchema = z.union([
  z.boolean(),
  z.strictObject({ type: z.literal('uuid'), encrypt: z.boolean().optional() }),
  z.strictObject({
    type: z.literal('number'),
    length: z.number().int().optional(),
    encrypt: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal('alphabet'),
    alphabet: z.string().min(2).max(256),
    length: z.number().int().optional(),
    encrypt: z.boolean().optional(),
  }),
]);

const ChallengeSchema = z
  .object({
    action: z.string(),
    id: z.string(),
    uid: z.string().nullable(),
    metadata: z.unknown().optional(),
    createdAt: EpochMs,
    expiresAt: EpochMs.nullable(),
    regenerate: z.boolean(),
    generation: z.number().int(),
    verifiedAt: EpochMs.nullable(),
    failedAttempts: z.number().int(),
    isFirstVerification: z.boolean().optional(),
  })
  .openapi('Challenge', { description: 'A challenge: never its secret or its hash.' });

const CreateSchema = z
  .strictObject({
    action: Name,
    id: Name.openapi({ description: 'Who or what it locks: an email, a phone number, a user id.' }),
    ttl: z.union([z.number().int(), z.literal('never')]).optional(),
    throttle: z.union([z.number().int(), z.boolean()]).optional(),
    metadata: z.unknown().optional(),
    secret: SecretSettingsSchema.optional(),
    regenerate: z.boolean().optional(),
  })
  .openapi('ChallengeCreate');

const TargetSchema = z.strictObject({
  uid: z.string().min(1).max(256).optional(),
  action: Name.optional(),
  id: Name.optional(),
  token: Token.optional().openapi({
    description: 'A sealed token alone, or the plain secret together with action and id.',
  }),
});

const VerifySchema = TargetSchema.omit({ uid: true })
  .extend({
    erase: z.boolean().optional(),
    control: z.strictObject({ action: Name.optional(), id: Name.optional() }).optional(),
  })
  .openapi('ChallengeVerify');

function challengeJson(c: Challenge & { isFirstVerification?: boolean }) {
  return {
    action: c.action,
    id: c.id,
    uid: c.uid,
    ...(c.metadata === undefined ? {} : { metadata: c.metadata }),
    createdAt: c.createdAt,
    expiresAt: c.expiresAt,
    regenerate: c.regenerate,
    generation: c.generation,
    verifiedAt: c.verifiedAt,
    failedAttempts: c.failedAttempts,
    ...(c.isFirstVerification === undefined ? {} : { isFirstVerification: c.isFirstVerification }),
  };
}

type Target = z.output<typeof TargetSchema>;

function lookupOf(t: Target): ChallengeLookup {
  if (t.uid !== undefined && t.action === undefined && t.id === undefined && !t.token)
    return { uid: t.uid };
  if (t.uid === undefined && t.action !== undefined && t.id !== undefined && !t.token)
    return { action: t.action, id: t.id };
  throw new InvalidInputError('give either uid, or action and id', 'uid');
}

function infoOf(t: Target): InfoInput {
  if (t.token !== undefined) {
    if (t.uid !== undefined) throw new InvalidInputError('uid and token exclude each other', 'uid');
    if (t.action !== undefined && t.id !== undefined)
      return { action: t.action, id: t.id, token: t.token };
    if (t.action === undefined && t.id === undefined) return t.token;
    throw new InvalidInputError('give action and id together', 'action');
  }
  return lookupOf(t);
}

const roles = [SERVICE_ROLES.challenges];
const tags = ['Challenges'];

/** Mount the challenge routes. */
export function mountChallengeRoutes(
  app: OpenAPIHono<ServiceEnv>,
  rt: RouteRuntime,
  challenges: Challenges,
): void {
  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/challenges',
    operationId: 'createChallenge',
    summary: 'Create a challenge',
    description:
      'Replaces any earlier challenge for (action, id). The secret (or sealed token) is returned once (`Cache-Control: no-store`); 429 with `Retry-After` while a throttle window is open.',
    tags,
    auth: { roles },
    body: CreateSchema,
    responses: {
      201: {
        description: 'Created.',
        schema: z.object({
          challenge: z.object({
            action: z.string(),
            id: z.string(),
            uid: z.string().optional(),
            createdAt: EpochMs,
            expiresAt: EpochMs.nullable(),
          }),
          secret: z.string().optional(),
        }),
      },
    },
  })(async (_c, { body }) => {
    const created = await challenges.create(body as CreateChallengeInput);
    return {
      status: 201,
      body: {
        challenge: {
          action: created.action,
          id: created.id,
          ...(created.uid === undefined ? {} : { uid: created.uid }),
          createdAt: created.createdAt,
          expiresAt: created.expiresAt,
        },
        ...(created.secret === undefined ? {} : { secret: created.secret }),
      },
      headers: { 'cache-control': 'no-store' },
    };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/challenges/verify',
    operationId: 'verifyChallenge',
    summary: 'Complete (verify) a challenge',
    description:
      'By a sealed token alone, or by action and id with the plain secret (or without one, for a challenge that has none). Wrong secrets draw on the attempt budgets. A failure answers `{"valid": false}` whatever the reason.',
    tags,
    auth: { roles },
    body: VerifySchema,
    responses: {
      200: {
        description: 'The outcome.',
        schema: z.union([
          z.object({ valid: z.literal(true), challenge: ChallengeSchema }),
          InvalidResultSchema,
        ]),
      },
    },
  })(async (_c, { body }) => {
    const { erase, control, ...target } = body;
    let input: VerifyInput;
    if (target.action !== undefined && target.id !== undefined) {
      input = {
        action: target.action,
        id: target.id,
        ...(target.token === undefined ? {} : { token: target.token }),
      };
    } else if (
      target.token !== undefined &&
      target.action === undefined &&
      target.id === undefined
    ) {
      input = target.token;
    } else {
      throw new InvalidInputError('give a sealed token, or action and id', 'token');
    }
    const r = await challenges.tryVerify(input, {
      ...(erase === undefined ? {} : { erase }),
      ...(control === undefined ? {} : { control }),
    });
    rt.metrics.verify('challenge', r.valid, r.valid ? 'valid' : r.reason);
    if (r.valid)
      return { status: 200, body: { valid: true, challenge: challengeJson(r.challenge) } };
    return { status: 200, body: verifyAnswer(rt, r.reason, r.retryAfterSeconds) };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/challenges/info',
    operationId: 'challengeInfo',
    summary: 'Read a challenge without completing it',
    description:
      'By uid, by action and id, by sealed token, or by action, id and the plain secret (a wrong secret draws on the attempt budgets). Any failure to match answers 404, except a spent attempt budget: 429 `ERR_TESSERA_LOCKED` with `Retry-After`.',
    tags,
    auth: { roles },
    body: TargetSchema.openapi('ChallengeTarget'),
    errors: [404],
    responses: {
      200: { description: 'The challenge.', schema: z.object({ challenge: ChallengeSchema }) },
    },
  })(async (_c, { body }) => {
    const challenge = await challenges.info(infoOf(body));
    return { status: 200, body: { challenge: challengeJson(challenge) } };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/challenges/regenerate',
    operationId: 'regenerateChallenge',
    summary: 'Issue a new secret for a challenge created with `regenerate`',
    description:
      'Every earlier secret and sealed token stops working. The new secret is returned once.',
    tags,
    auth: { roles },
    body: z
      .strictObject({
        uid: z.string().min(1).max(256).optional(),
        action: Name.optional(),
        id: Name.optional(),
        throttle: z.number().int().optional(),
      })
      .openapi('ChallengeRegenerate'),
    errors: [404, 409],
    responses: {
      200: {
        description: 'Regenerated.',
        schema: z.object({
          challenge: z.object({
            action: z.string(),
            id: z.string(),
            uid: z.string(),
            generation: z.number().int(),
          }),
          secret: z.string(),
        }),
      },
    },
  })(async (_c, { body }) => {
    const { throttle, ...target } = body;
    const r = await challenges.regenerate(
      lookupOf(target),
      throttle === undefined ? {} : { throttle },
    );
    return {
      status: 200,
      body: {
        challenge: { action: r.action, id: r.id, uid: r.uid, generation: r.generation },
        secret: r.secret,
      },
      headers: { 'cache-control': 'no-store' },
    };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/challenges/remove',
    operationId: 'removeChallenge',
    summary: 'Delete a challenge and end its throttle window',
    tags,
    auth: { roles },
    body: TargetSchema.extend({ generation: z.number().int().optional() }).openapi(
      'ChallengeRemove',
    ),
    errors: [409],
    responses: {
      200: {
        description: 'Whether a live challenge was removed.',
        schema: z.object({ removed: z.boolean() }),
      },
    },
  })(async (_c, { body }) => {
    const { generation, ...target } = body;
    const ref =
      target.token !== undefined && target.uid === undefined && target.action === undefined
        ? target.token
        : lookupOf(target);
    const removed = await challenges.remove(ref, generation === undefined ? {} : { generation });
    return { status: 200, body: { removed } };
  });
}
