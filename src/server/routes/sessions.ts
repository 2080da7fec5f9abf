/**
 * `/v1/sessions` and `/v1/session-tokens`: sessions and their transition
 * tokens (plain, session-bound, transferable) over HTTP. Sessions and tokens
 * are named by their bearer token (`{ "token" }`) or their public id
 * (`{ "id" }`, the hash, safe to list and log). Bearer tokens are returned
 * once, at creation; listings carry ids only.
 * @module
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { NotFoundError } from '../../core/errors.js';
import type {
  AddTokenInput,
  CreateSessionInput,
  SessionInfo,
  SessionRef,
  Sessions,
  TokenInfo,
} from '../../sessions/index.js';
import type { Json } from '../../stores/contract.js';
import { SERVICE_ROLES } from '../roles.js';
import { defineRoute, type RouteRuntime, type ServiceEnv, z } from '../route.js';
import { EpochMs, InvalidResultSchema, JsonObjectSchema } from '../schemas.js';
import { verifyAnswer } from './verify-answer.js';

const Owner = z.string().min(1).max(256);
const Bearer = z.string().min(1).max(1024);
const PublicId = z.string().min(1).max(256);
const Timeout = z.number().int().positive().nullable();

const RefSchema = z
  .union([z.strictObject({ token: Bearer }), z.strictObject({ id: PublicId })])
  .openapi('Ref', { description: 'A session or token, by its bearer `token` or its public `id`.' });

const SessionSchema = z
  .object({
    id: z.string(),
    owner: z.string(),
    createdAt: EpochMs,
    lastActiveAt: EpochMs,
    expiresAt: EpochMs.nullable(),
    absoluteExpiresAt: EpochMs.nullable(),
    idleTimeoutMs: z.number().int().nullable(),
    sliding: z.boolean().openapi({
      description:
        'Whether activity extends the idle timeout. `false`: a fixed countdown from `lastActiveAt`, paused while detached.',
    }),
    detachTimeoutMs: z.number().int().nullable(),
    detachable: z.boolean(),
    detached: z.boolean(),
    detachedAt: EpochMs.nullable(),
    data: JsonObjectSchema.optional(),
  })
  .openapi('Session', { description: 'A session: never its token.' });

const TokenInfoSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['plain', 'bound', 'transferable']),
    state: z.enum(['plain', 'bound', 'carried', 'held', 'unassigned']),
    owner: z.string().nullable(),
    sessionId: z.string().nullable(),
    value: z.unknown(),
    createdAt: EpochMs,
    expiresAt: EpochMs.nullable(),
    timeoutMs: z.number().int().nullable(),
    disownmentTimeoutMs: z.number().int(),
    releasedAt: EpochMs.nullable(),
    sellable: z.boolean(),
    price: z.number().nullable(),
  })
  .openapi('SessionToken', { description: 'A transition token: never the token itself.' });

const PageQuery = {
  limit: z
    .string()
    .regex(/^\d{1,4}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000))
    .optional(),
  cursor: z.string().min(1).max(2048).optional(),
};

function sessionJson(s: SessionInfo) {
  return {
    id: s.id,
    owner: s.owner,
    createdAt: s.createdAt,
    lastActiveAt: s.lastActiveAt,
    expiresAt: s.expiresAt,
    absoluteExpiresAt: s.absoluteExpiresAt,
    idleTimeoutMs: s.idleTimeoutMs,
    sliding: s.sliding,
    detachTimeoutMs: s.detachTimeoutMs,
    detachable: s.detachable,
    detached: s.detached,
    detachedAt: s.detachedAt,
    ...(s.data === undefined ? {} : { data: s.data }),
  };
}

function tokenJson(t: TokenInfo) {
  return {
    id: t.id,
    kind: t.kind,
    state: t.state,
    owner: t.owner,
    sessionId: t.sessionId,
    value: t.value,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    timeoutMs: t.timeoutMs,
    disownmentTimeoutMs: t.disownmentTimeoutMs,
    releasedAt: t.releasedAt,
    sellable: t.sellable,
    price: t.price,
  };
}

const SessionReply = z.object({ session: SessionSchema });
const TokenReply = z.object({ token: TokenInfoSchema });
const roles = [SERVICE_ROLES.sessions];
const tags = ['Sessions'];
const tokenTags = ['Session tokens'];

/** Mount the session and transition-token routes. */
export function mountSessionRoutes(
  app: OpenAPIHono<ServiceEnv>,
  rt: RouteRuntime,
  sessions: Sessions,
): void {
  const tokens = sessions.tokens;

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/sessions',
    operationId: 'createSession',
    summary: 'Create a session',
    description:
      'The session token is returned once (`Cache-Control: no-store`). Defaults: 7 days idle (sliding), 30 days absolute. With `sliding: false` the idle timeout is a fixed countdown from creation: validating never extends it (nor writes), `settings` with `idleTimeoutMs` re-arms it, detaching pauses it.',
    tags,
    auth: { roles },
    body: z
      .strictObject({
        owner: Owner,
        prefix: z.string().max(64).optional(),
        detachable: z.boolean().optional(),
        sliding: z
          .boolean()
          .optional()
          .openapi({ description: 'Whether activity extends the idle timeout (default true).' }),
        data: JsonObjectSchema.optional(),
        idleTimeoutMs: Timeout.optional(),
        absoluteTimeoutMs: Timeout.optional(),
        detachTimeoutMs: Timeout.optional(),
      })
      .openapi('SessionCreate'),
    errors: [409],
    responses: {
      201: {
        description: 'Created.',
        schema: z.object({ token: z.string(), session: SessionSchema }),
      },
    },
  })(async (_c, { body }) => {
    const { token, session } = await sessions.create(body as CreateSessionInput);
    return {
      status: 201,
      body: { token, session: sessionJson(session) },
      headers: { 'cache-control': 'no-store' },
    };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/sessions/validate',
    operationId: 'validateSession',
    summary: 'Validate a session token (records activity)',
    description: 'A failure answers `{"valid": false}` whatever the reason.',
    tags,
    auth: { roles },
    body: z.strictObject({ token: Bearer }).openapi('SessionValidate'),
    responses: {
      200: {
        description: 'The outcome.',
        schema: z.union([
          z.object({ valid: z.literal(true), session: SessionSchema }),
          InvalidResultSchema,
        ]),
      },
    },
  })(async (_c, { body }) => {
    const r = await sessions.validate(body.token);
    rt.metrics.verify('session', r.valid, r.valid ? 'valid' : r.reason);
    if (r.valid) return { status: 200, body: { valid: true, session: sessionJson(r.session) } };
    return { status: 200, body: verifyAnswer(rt, r.reason) };
  });

  defineRoute(app, rt, {
    method: 'get',
    path: '/v1/sessions',
    operationId: 'listSessions',
    summary: 'List the live sessions of an owner, or the detached ones',
    tags,
    auth: { roles },
    query: z
      .strictObject({
        owner: Owner.optional(),
        detached: z.enum(['true']).optional(),
        ...PageQuery,
      })
      .refine((q) => (q.owner === undefined) !== (q.detached === undefined), {
        message: 'give owner or detached=true',
        path: ['owner'],
      }),
    responses: {
      200: {
        description: 'A page.',
        schema: z.object({ items: z.array(SessionSchema), cursor: z.string().nullable() }),
      },
    },
  })(async (_c, { query }) => {
    const { owner, detached: _d, ...page } = query;
    const r = owner ? await sessions.listByOwner(owner, page) : await sessions.listDetached(page);
    return { status: 200, body: { items: r.items.map(sessionJson), cursor: r.cursor } };
  });

  defineRoute(app, rt, {
    method: 'get',
    path: '/v1/sessions/{id}',
    operationId: 'getSession',
    summary: 'Read a live session by its public id (no activity recorded)',
    tags,
    auth: { roles },
    params: z.object({ id: PublicId }),
    errors: [404],
    responses: { 200: { description: 'The session.', schema: SessionReply } },
  })(async (_c, { params }) => {
    const s = await sessions.get({ id: params.id });
    if (!s) throw new NotFoundError('Session not found.');
    return { status: 200, body: { session: sessionJson(s) } };
  });

  const sessionAction = (
    name: 'detach' | 'attach',
    summary: string,
    run: (ref: SessionRef) => Promise<SessionInfo>,
  ) =>
    defineRoute(app, rt, {
      method: 'post',
      path: `/v1/sessions/${name}`,
      operationId: `${name}Session`,
      summary,
      tags,
      auth: { roles },
      body: RefSchema,
      errors: [404],
      responses: { 200: { description: 'The session.', schema: SessionReply } },
    })(async (_c, { body }) => ({ status: 200, body: { session: sessionJson(await run(body)) } }));
  sessionAction('detach', 'Detach a session (log out, keep it alive)', (r) => sessions.detach(r));
  sessionAction('attach', 'Attach a detached session again', (r) => sessions.attach(r));

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/sessions/settings',
    operationId: 'updateSession',
    summary: "Change a session's timeouts or whether it may be detached",
    tags,
    auth: { roles },
    body: z
      .strictObject({
        session: RefSchema,
        detachable: z.boolean().optional(),
        idleTimeoutMs: Timeout.optional(),
        absoluteTimeoutMs: Timeout.optional(),
        detachTimeoutMs: Timeout.optional(),
      })
      .openapi('SessionSettings'),
    errors: [404],
    responses: { 200: { description: 'The session.', schema: SessionReply } },
  })(async (_c, { body }) => {
    const { session: ref, detachable, ...timeouts } = body;
    let s: SessionInfo | null = null;
    if (detachable !== undefined) s = await sessions.allowDetach(ref, detachable);
    if (Object.keys(timeouts).length > 0) s = await sessions.setTimeouts(ref, timeouts);
    s ??= await sessions.get(ref);
    if (!s) throw new NotFoundError('Session not found.');
    return { status: 200, body: { session: sessionJson(s) } };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/sessions/destroy',
    operationId: 'destroySession',
    summary: 'Destroy a session (its bound tokens die at once)',
    tags,
    auth: { roles },
    body: RefSchema,
    responses: {
      200: {
        description: 'Whether a live session was ended.',
        schema: z.object({ destroyed: z.boolean() }),
      },
    },
  })(async (_c, { body }) => ({ status: 200, body: { destroyed: await sessions.destroy(body) } }));

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/sessions/destroy-all',
    operationId: 'destroyOwnerSessions',
    summary: 'Log an owner out everywhere (optionally but one session)',
    tags,
    auth: { roles },
    body: z.strictObject({ owner: Owner, except: RefSchema.optional() }),
    responses: {
      200: {
        description: 'How many sessions were ended.',
        schema: z.object({ destroyed: z.number().int() }),
      },
    },
  })(async (_c, { body }) => ({
    status: 200,
    body: {
      destroyed: await sessions.destroyAll(body.owner, body.except ? { except: body.except } : {}),
    },
  }));

  // Transition tokens.
  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/session-tokens',
    operationId: 'addSessionToken',
    summary: 'Add a transition token (plain, bound to a session, or transferable)',
    description: 'The token is returned once (`Cache-Control: no-store`).',
    tags: tokenTags,
    auth: { roles },
    body: z
      .strictObject({
        kind: z.enum(['plain', 'bound', 'transferable']).optional(),
        value: z.unknown(),
        prefix: z.string().max(64).optional(),
        session: RefSchema.optional(),
        owner: Owner.optional(),
        timeoutMs: Timeout.optional(),
        disownmentTimeoutMs: z.number().int().positive().optional(),
      })
      .openapi('SessionTokenAdd'),
    errors: [404, 409],
    responses: {
      201: {
        description: 'Added.',
        schema: z.object({ token: z.string(), info: TokenInfoSchema }),
      },
    },
  })(async (_c, { body }) => {
    const { token, info } = await tokens.add({
      ...body,
      value: body.value as Json,
    } as AddTokenInput);
    return {
      status: 201,
      body: { token, info: tokenJson(info) },
      headers: { 'cache-control': 'no-store' },
    };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/session-tokens/check',
    operationId: 'checkSessionToken',
    summary: 'Check a transition token',
    description: 'A failure answers `{"valid": false}` whatever the reason.',
    tags: tokenTags,
    auth: { roles },
    body: z.strictObject({ token: Bearer }).openapi('SessionTokenCheck'),
    responses: {
      200: {
        description: 'The outcome.',
        schema: z.union([
          z.object({ valid: z.literal(true), value: z.unknown(), token: TokenInfoSchema }),
          InvalidResultSchema,
        ]),
      },
    },
  })(async (_c, { body }) => {
    const r = await tokens.check(body.token);
    rt.metrics.verify('session_token', r.active, r.active ? 'valid' : r.reason);
    if (r.active)
      return { status: 200, body: { valid: true, value: r.value, token: tokenJson(r.token) } };
    return { status: 200, body: verifyAnswer(rt, r.reason) };
  });

  defineRoute(app, rt, {
    method: 'get',
    path: '/v1/session-tokens',
    operationId: 'listSessionTokens',
    summary: 'List transition tokens by session, owner, sellable or unassigned',
    tags: tokenTags,
    auth: { roles },
    query: z
      .strictObject({
        session: PublicId.optional(),
        owner: Owner.optional(),
        sellable: z.enum(['true']).optional(),
        unassigned: z.enum(['true']).optional(),
        ...PageQuery,
      })
      .refine(
        (q) =>
          [q.session, q.owner, q.sellable, q.unassigned].filter((v) => v !== undefined).length ===
          1,
        { message: 'give exactly one of session, owner, sellable=true, unassigned=true', path: [] },
      ),
    responses: {
      200: {
        description: 'A page.',
        schema: z.object({ items: z.array(TokenInfoSchema), cursor: z.string().nullable() }),
      },
    },
  })(async (_c, { query }) => {
    const page = {
      ...(query.limit === undefined ? {} : { limit: query.limit }),
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    };
    const r = query.session
      ? await tokens.listBySession({ id: query.session }, page)
      : query.owner
        ? await tokens.listByOwner(query.owner, page)
        : query.sellable
          ? await tokens.listSellable(page)
          : await tokens.listUnassigned(page);
    return { status: 200, body: { items: r.items.map(tokenJson), cursor: r.cursor } };
  });

  defineRoute(app, rt, {
    method: 'get',
    path: '/v1/session-tokens/{id}',
    operationId: 'getSessionToken',
    summary: 'Read an active transition token by its public id',
    tags: tokenTags,
    auth: { roles },
    params: z.object({ id: PublicId }),
    errors: [404],
    responses: { 200: { description: 'The token.', schema: TokenReply } },
  })(async (_c, { params }) => {
    const t = await tokens.get({ id: params.id });
    if (!t) throw new NotFoundError('Token not found.');
    return { status: 200, body: { token: tokenJson(t) } };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/session-tokens/transfer',
    operationId: 'transferSessionToken',
    summary: 'Transfer a transferable token to another owner',
    description:
      'Only a transferable token that belongs to `from` (or is unassigned, with `from: null`), into a session of `to` if `toSession` is given: otherwise 403 (`ERR_TESSERA_FORBIDDEN`). 404 when the token or `toSession` is not live; 409 when the token keeps changing under the transfer. Of concurrent transfers exactly one wins.',
    tags: tokenTags,
    auth: { roles },
    body: z
      .strictObject({
        token: RefSchema,
        from: Owner.nullable(),
        to: Owner,
        toSession: RefSchema.optional(),
      })
      .openapi('SessionTokenTransfer'),
    errors: [404, 409],
    responses: { 200: { description: 'The token.', schema: TokenReply } },
  })(async (_c, { body }) => {
    const t = await tokens.transfer(body.token, {
      from: body.from,
      to: body.to,
      ...(body.toSession ? { toSession: body.toSession } : {}),
    });
    return { status: 200, body: { token: tokenJson(t) } };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/session-tokens/acquire',
    operationId: 'acquireSessionToken',
    summary: 'Acquire a transferable token into a session',
    description:
      "Allowed when the token is unassigned or already belongs to the session's owner; 403 (`ERR_TESSERA_FORBIDDEN`) when it is not transferable or belongs to another owner, 404 when the token or the session is not live.",
    tags: tokenTags,
    auth: { roles },
    body: z.strictObject({ token: Bearer, session: RefSchema }).openapi('SessionTokenAcquire'),
    errors: [404, 409],
    responses: { 200: { description: 'The token.', schema: TokenReply } },
  })(async (_c, { body }) => ({
    status: 200,
    body: { token: tokenJson(await tokens.acquire(body.token, body.session)) },
  }));

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/session-tokens/settings',
    operationId: 'updateSessionToken',
    summary: "Change a token's value, timeouts or sellable mark",
    description:
      'Each given field is applied in turn (value, timeout, disownment timeout, sellable). `price` is set together with `sellable: true`; `sellable: false` keeps the amount. Sellable and disownment settings need a transferable token (403 otherwise).',
    tags: tokenTags,
    auth: { roles },
    body: z
      .strictObject({
        token: RefSchema,
        value: z.unknown().optional(),
        timeoutMs: Timeout.optional(),
        disownmentTimeoutMs: z.number().int().positive().optional(),
        sellable: z.boolean().optional(),
        price: z.number().optional(),
      })
      .openapi('SessionTokenSettings'),
    errors: [404, 409],
    responses: { 200: { description: 'The token.', schema: TokenReply } },
  })(async (_c, { body }) => {
    const ref = body.token;
    let t: TokenInfo | null = null;
    if (body.value !== undefined) t = await tokens.setValue(ref, body.value as Json);
    if (body.timeoutMs !== undefined) t = await tokens.setTimeout(ref, body.timeoutMs);
    if (body.disownmentTimeoutMs !== undefined)
      t = await tokens.setDisownmentTimeout(ref, body.disownmentTimeoutMs);
    if (body.sellable === true)
      t = await tokens.setSellable(ref, body.price === undefined ? {} : { price: body.price });
    if (body.sellable === false) t = await tokens.unsetSellable(ref);
    t ??= await tokens.get(ref);
    if (!t) throw new NotFoundError('Token not found.');
    return { status: 200, body: { token: tokenJson(t) } };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/session-tokens/destroy',
    operationId: 'destroySessionToken',
    summary: 'Destroy a transition token',
    tags: tokenTags,
    auth: { roles },
    body: RefSchema,
    responses: {
      200: {
        description: 'Whether an active token was destroyed.',
        schema: z.object({ destroyed: z.boolean() }),
      },
    },
  })(async (_c, { body }) => ({ status: 200, body: { destroyed: await tokens.destroy(body) } }));
}
