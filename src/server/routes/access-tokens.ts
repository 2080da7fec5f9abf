/**
 * `/v1/access-tokens`: personal access tokens (API keys) over HTTP — issue,
 * register, list, read, update, revoke, restore, rotate, delete — and the
 * verify endpoint other services call (Unkey-style). No response ever holds a
 * secret hash: the schema of a token names no such field. Revoke, delete,
 * rotate and an update that takes something away also deny the JWTs minted
 * from the token (see `minted-jwts.ts`).
 * @module
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AccessToken, AccessTokens } from '../../access-tokens/index.js';
import type { Clock } from '../../core/clock.js';
import { NotFoundError } from '../../core/errors.js';
import { type MintedJwtRevoker, updateRevokesMinted } from '../minted-jwts.js';
import { SERVICE_ROLES } from '../roles.js';
import { defineRoute, type RouteRuntime, type ServiceEnv, z } from '../route.js';
import { EpochMs, InvalidResultSchema } from '../schemas.js';
import { verifyAnswer } from './verify-answer.js';

const TokenId = z
  .string()
  .regex(/^[0-9A-Za-z]{21}$/)
  .openapi({ description: '21 base62 characters; not secret.', example: '4Hq0rT2mZ8xYb1cVd3eWf' });
const Owner = z.string().min(1).max(100);
const Roles = z.array(z.string().min(1).max(100)).max(50);

const AccessTokenSchema = z
  .object({
    tokenId: TokenId,
    owner: z.string(),
    isAdmin: z.boolean(),
    roles: z.array(z.string()),
    createdAt: EpochMs,
    lastUsedAt: EpochMs.nullable(),
    revokedAt: EpochMs.nullable(),
    expiresAt: EpochMs.nullable(),
    previousSecretExpiresAt: EpochMs.nullable(),
  })
  .openapi('AccessToken', { description: 'An access token: never its secret or its hash.' });

const IssueSchema = z
  .strictObject({
    owner: Owner,
    isAdmin: z.boolean().optional(),
    roles: Roles.optional(),
    expiresAt: EpochMs.nullable().optional(),
    tokenId: TokenId.optional(),
  })
  .openapi('AccessTokenIssue');

const RegisterSchema = z
  .strictObject({
    owner: Owner,
    secretPhc: z.string().min(1).max(1024).openapi({
      description: 'PHC string of the secret: `$sha256$`, `$hmac-sha256$` or `$scrypt$`.',
    }),
    isAdmin: z.boolean().optional(),
    roles: Roles.optional(),
    expiresAt: EpochMs.nullable().optional(),
    format: z.enum(['tessera', 'legacy']).optional().openapi({
      description:
        "The token format the secret verifies in: `tessera` (`prefix_` + id + secret + checksum) or `legacy` (the seed's `pat_<id>.<base64>`). Default: `legacy` for a `$scrypt$` hash (a token migrated from @access-tokens/core), `tessera` otherwise.",
    }),
    createdAt: EpochMs.optional(),
  })
  .openapi('AccessTokenRegister');

const UpdateSchema = z
  .strictObject({
    owner: Owner.optional(),
    isAdmin: z.boolean().optional(),
    roles: z
      .union([Roles, z.strictObject({ add: Roles }), z.strictObject({ remove: Roles })])
      .optional()
      .openapi({
        description: 'A replacement array, `{ "add": [...] }` or `{ "remove": [...] }`.',
      }),
    secretPhc: z.string().min(1).max(1024).optional(),
    expiresAt: EpochMs.nullable().optional(),
  })
  .openapi('AccessTokenUpdate');

const VerifySchema = z
  .strictObject({
    token: z.string().min(1).max(4096).openapi({ description: 'The presented token string.' }),
    requireRoles: Roles.optional().openapi({
      description: 'Valid only if the token is an admin token or holds every one of these roles.',
    }),
  })
  .openapi('AccessTokenVerify');

const ListQuery = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,4}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000))
    .optional()
    .openapi({ description: 'Page size, 1..1000 (default 100).' }),
  cursor: z.string().min(1).max(2048).optional(),
  owner: Owner.optional(),
  hasRole: z.string().min(1).max(100).optional(),
});

const IdParams = z.object({ tokenId: TokenId });

function tokenJson(t: AccessToken) {
  return {
    tokenId: t.tokenId,
    owner: t.owner,
    isAdmin: t.isAdmin,
    roles: [...t.roles],
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
    expiresAt: t.expiresAt,
    previousSecretExpiresAt: t.previousSecretExpiresAt,
  };
}

const manage = [SERVICE_ROLES.accessTokens];
const tags = ['Access tokens'];
const RecordReply = z.object({ record: AccessTokenSchema });
const Issued = z.object({
  token: z.string().openapi({ description: 'The token string, shown this once.' }),
  record: AccessTokenSchema,
});

const MINTED_NOTE = 'JWTs minted from the token (`POST /auth/token`) are refused from then on.';

/**
 * Mount the access-token routes.
 * @param minted - denies the JWTs minted from a token (when the service mints JWTs)
 */
export function mountAccessTokenRoutes(
  app: OpenAPIHono<ServiceEnv>,
  rt: RouteRuntime,
  pats: AccessTokens,
  minted?: { readonly revoker: MintedJwtRevoker; readonly clock: Clock },
): void {
  const revokeMinted = async (tokenId: string) => {
    if (minted) await minted.revoker.revoke(tokenId);
  };
  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/access-tokens/verify',
    operationId: 'verifyAccessToken',
    summary: 'Verify an access token (for other services)',
    description:
      'Answers `{"valid": true, "record": …}` or `{"valid": false}` (the reason is in metrics and logs only, unless --expose-reasons). Never 404: the answer does not tell whether a token exists.',
    tags,
    auth: { roles: [SERVICE_ROLES.verify, SERVICE_ROLES.accessTokens] },
    body: VerifySchema,
    responses: {
      200: {
        description: 'The outcome.',
        schema: z.union([
          z.object({ valid: z.literal(true), record: AccessTokenSchema }),
          InvalidResultSchema,
        ]),
      },
    },
  })(async (_c, { body }) => {
    const r = await pats.verify(body.token);
    if (!r.valid) {
      rt.metrics.verify('access_token', false, r.reason);
      return { status: 200, body: verifyAnswer(rt, r.reason) };
    }
    const need = body.requireRoles ?? [];
    if (!r.record.isAdmin && need.some((role) => !r.record.roles.includes(role))) {
      rt.metrics.verify('access_token', false, 'insufficient_roles');
      return { status: 200, body: verifyAnswer(rt, 'insufficient_roles') };
    }
    rt.metrics.verify('access_token', true, 'valid');
    return { status: 200, body: { valid: true, record: tokenJson(r.record) } };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/access-tokens',
    operationId: 'issueAccessToken',
    summary: 'Issue an access token',
    description: 'The token string is returned once (`Cache-Control: no-store`).',
    tags,
    auth: { roles: manage },
    body: IssueSchema,
    errors: [409],
    responses: { 201: { description: 'Issued.', schema: Issued } },
  })(async (_c, { body }) => {
    const { token, record } = await pats.issue(body);
    return {
      status: 201,
      body: { token, record: tokenJson(record) },
      headers: { 'cache-control': 'no-store' },
    };
  });

  defineRoute(app, rt, {
    method: 'get',
    path: '/v1/access-tokens',
    operationId: 'listAccessTokens',
    summary: 'List access tokens (by owner or role)',
    description: 'Ascending token id order, revoked and expired included; follow `cursor`.',
    tags,
    auth: { roles: manage },
    query: ListQuery,
    responses: {
      200: {
        description: 'A page.',
        schema: z.object({ tokens: z.array(AccessTokenSchema), cursor: z.string().nullable() }),
      },
    },
  })(async (_c, { query }) => {
    const { owner, ...rest } = query;
    const input = { ...rest, includeSecretPhc: false };
    const page = owner ? await pats.listByOwner(owner, input) : await pats.list(input);
    return { status: 200, body: { tokens: page.tokens.map(tokenJson), cursor: page.cursor } };
  });

  defineRoute(app, rt, {
    method: 'get',
    path: '/v1/access-tokens/{tokenId}',
    operationId: 'getAccessToken',
    summary: 'Read an access token',
    tags,
    auth: { roles: manage },
    params: IdParams,
    errors: [404],
    responses: { 200: { description: 'The token.', schema: RecordReply } },
  })(async (_c, { params }) => {
    const record = await pats.get(params.tokenId);
    if (!record) throw new NotFoundError(`Token not found: ${params.tokenId}`);
    return { status: 200, body: { record: tokenJson(record) } };
  });

  defineRoute(app, rt, {
    method: 'put',
    path: '/v1/access-tokens/{tokenId}',
    operationId: 'registerAccessToken',
    summary: 'Register a token generated elsewhere, by its PHC hash',
    description:
      "For migrations: stores the token under its id with the given secret hash. A `$scrypt$` hash without `format` verifies the seed's `pat_<id>.<base64>` token it came from.",
    tags,
    auth: { roles: manage },
    params: IdParams,
    body: RegisterSchema,
    errors: [409],
    responses: { 201: { description: 'Registered.', schema: RecordReply } },
  })(async (_c, { params, body }) => {
    const record = await pats.register({ ...body, tokenId: params.tokenId });
    return { status: 201, body: { record: tokenJson(record) } };
  });

  defineRoute(app, rt, {
    method: 'patch',
    path: '/v1/access-tokens/{tokenId}',
    operationId: 'updateAccessToken',
    summary: 'Update an access token',
    description: `An update that takes something away — \`isAdmin: false\`, a roles replacement or \`remove\`, a new owner or secret, an expiry within the JWT lifetime — also ends the JWTs minted from the token: ${MINTED_NOTE}`,
    tags,
    auth: { roles: manage },
    params: IdParams,
    body: UpdateSchema,
    errors: [404, 409],
    responses: { 200: { description: 'The updated token.', schema: RecordReply } },
  })(async (_c, { params, body }) => {
    const record = await pats.update(params.tokenId, body);
    // After the change, so a JWT minted in between is denied too.
    if (minted && updateRevokesMinted(body, minted.clock.now(), minted.revoker.lifetimeMs)) {
      await revokeMinted(params.tokenId);
    }
    return { status: 200, body: { record: tokenJson(record) } };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/access-tokens/{tokenId}/revoke',
    operationId: 'revokeAccessToken',
    summary: 'Revoke an access token',
    description: `\`expiresAt\` optionally sets when the revoked record may be collected. ${MINTED_NOTE} Idempotent: revoking a revoked token answers it again.`,
    tags,
    auth: { roles: manage },
    params: IdParams,
    body: z.strictObject({ expiresAt: EpochMs.nullable().optional() }),
    errors: [404],
    responses: { 200: { description: 'The revoked token.', schema: RecordReply } },
  })(async (_c, { params, body }) => {
    const record = await pats.revoke(params.tokenId, body);
    await revokeMinted(params.tokenId);
    return { status: 200, body: { record: tokenJson(record) } };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/access-tokens/{tokenId}/restore',
    operationId: 'restoreAccessToken',
    summary: 'Undo a revocation (with the expiry the token had before)',
    tags,
    auth: { roles: manage },
    params: IdParams,
    errors: [404],
    responses: { 200: { description: 'The restored token.', schema: RecordReply } },
  })(async (_c, { params }) => {
    const record = await pats.restore(params.tokenId);
    return { status: 200, body: { record: tokenJson(record) } };
  });

  defineRoute(app, rt, {
    method: 'post',
    path: '/v1/access-tokens/{tokenId}/rotate',
    operationId: 'rotateAccessToken',
    summary: 'Give an access token a new secret',
    description: `The old secret keeps verifying for \`overlapSeconds\` (default 0). The new token string is returned once. ${MINTED_NOTE}`,
    tags,
    auth: { roles: manage },
    params: IdParams,
    body: z.strictObject({ overlapSeconds: z.number().int().min(0).optional() }),
    errors: [404, 409],
    responses: { 200: { description: 'Rotated.', schema: Issued } },
  })(async (_c, { params, body }) => {
    const { token, record } = await pats.rotate(params.tokenId, body);
    await revokeMinted(params.tokenId);
    return {
      status: 200,
      body: { token, record: tokenJson(record) },
      headers: { 'cache-control': 'no-store' },
    };
  });

  defineRoute(app, rt, {
    method: 'delete',
    path: '/v1/access-tokens/{tokenId}',
    operationId: 'deleteAccessToken',
    summary: 'Delete an access token',
    description: MINTED_NOTE,
    tags,
    auth: { roles: manage },
    params: IdParams,
    errors: [404],
    responses: { 204: { description: 'Deleted.' } },
  })(async (_c, { params }) => {
    const deleted = await pats.delete(params.tokenId);
    // Also on 404: a retry after a failed denial must still deny.
    await revokeMinted(params.tokenId);
    if (!deleted) throw new NotFoundError(`Token not found: ${params.tokenId}`);
    return { status: 204, body: undefined };
  });
}
