/**
 * The seed's admin token routes without a framework (BEHAVIOUR.md §3.6):
 * every route checks the JWT and the admin flag first, validates as the seed
 * does (same 400 messages and details), and answers with the seed's statuses
 * and bodies. The seed's faults are fixed: an unknown id is 404 and a taken
 * id 409 (not 500), revoke accepts no body, revoking a PAT, or an update
 * that takes something away from it (`isAdmin: false`, a roles replacement
 * or removal, a new owner or secret, an expiry within the JWT lifetime; the
 * rule of `minted-jwts.ts`), also denies its outstanding JWTs when the
 * signer has a denylist store, and `GET /tokens` filters before it limits.
 * @module
 */
import { type Clock, systemClock } from '../core/clock.js';
import type { Handler } from './auth-handlers.js';
import { createJwtGuard } from './guard.js';
import { mintedLifetimeMs, updateRevokesMinted } from './minted-jwts.js';
import { empty, json, NO_STORE, patErrorAnswer, seedError } from './responses.js';
import {
  type AccessTokenMethods,
  type AdminHandlerOptions,
  type HttpRequest,
  type HttpResponse,
  MALFORMED_BODY,
  type PatRecord,
} from './types.js';
import {
  arr,
  bool,
  checkObject,
  type FieldRule,
  type Issue,
  num,
  obj,
  oneOf,
  prettify,
  str,
  typeIssue,
} from './validate.js';

/** The admin handlers, by route name (see `ADMIN_ROUTES`); each needs an admin JWT. */
export interface AdminHandlers {
  /** `GET /tokens`: 200 `{ records }`; query `afterTokenId`, `limit`, `includeRevoked`, `includeExpired`, `includeSecretPhc`, `hasRole`. */
  readonly list: Handler;
  /** `POST /tokens/batch`: 200 `{ found, notFound }` for `{ tokenIds, includeSecretPhc? }`. */
  readonly batch: Handler;
  /** `POST /tokens`: 201 `{ token, record }` (the only time the secret is shown). */
  readonly issue: Handler;
  /** `PUT /tokens/:tokenId`: 200 `{ record }`, a token registered from a PHC hash. */
  readonly register: Handler;
  /**
   * `PATCH /tokens/:tokenId`: 204; owner, admin flag, PHC, roles (replace, add or remove), expiry.
   * An update that takes something away also denies the token's outstanding JWTs.
   */
  readonly update: Handler;
  /** `PUT /tokens/:tokenId/revoke`: 204, with or without a body; also denies its outstanding JWTs. */
  readonly revoke: Handler;
  /** `PUT /tokens/:tokenId/restore`: 204, with the expiry the token had before it was revoked. */
  readonly restore: Handler;
}

/** Page size of `GET /tokens` when `limit` is absent, tokens (as the seed). */
export const DEFAULT_LIST_LIMIT = 100;
/**
 * Largest page of `GET /tokens`, tokens: a larger `limit` is lowered to it
 * (as the seed does), never refused.
 */
export const MAX_LIST_LIMIT = 1000;
/** Most ids in one `POST /tokens/batch`; more is 400 "Invalid request body". */
export const MAX_BATCH_IDS = 1000;

const role = str({ min: 1, max: 100 });
const roles = arr(role, { optional: true, max: 50 });
const ISSUE_FIELDS = {
  tokenId: str({ optional: true }),
  owner: str(),
  isAdmin: bool({ optional: true }),
  roles,
  expiresAt: num({ optional: true }),
};
const REGISTER_FIELDS = {
  secretPhc: str(),
  owner: str(),
  isAdmin: bool({ optional: true }),
  roles,
  expiresAt: num({ optional: true }),
};
const UPDATE_FIELDS = {
  secretPhc: str({ optional: true }),
  owner: str({ optional: true }),
  isAdmin: bool({ optional: true }),
  roles: oneOf(
    [
      arr(role, { max: 50 }),
      obj({ add: arr(role, { max: 50 }) }),
      obj({ remove: arr(role, { max: 50 }) }),
    ],
    true,
  ),
  expiresAt: num({ optional: true, nullable: true }),
};
const REVOKE_FIELDS = { expiresAt: num({ optional: true }) };
const BATCH_FIELDS = {
  tokenIds: arr(str(), { max: MAX_BATCH_IDS }),
  includeSecretPhc: bool({ optional: true }),
};

const queryString = (): FieldRule => str({ optional: true });
const positiveLimit: FieldRule = (v, path, issues) => {
  if (v === undefined) return;
  if (typeof v !== 'string') {
    issues.push(typeIssue(path, 'string', v));
    return;
  }
  const n = Number.parseInt(v, 10);
  if (!Number.isInteger(n) || n <= 0) {
    issues.push({ path, message: 'Limit must be a positive integer' });
  }
};

/** The seed's boolean query flags: `true`/`1` and `false`/`0`; anything else is unset. */
function flag(v: unknown): boolean | undefined {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return undefined;
}

/**
 * Create the admin handlers.
 *
 * @param options - `pat`, `signerVerifier`; `clock` (default system clock), `logger`, `realm`
 * @throws TypeError when `pat` or `signerVerifier` is missing
 * @example
 * ```ts
 * const admin = createAdminHandlers({ pat, signerVerifier });
 * const res = await admin.list(request); // { status: 200, body: { records: [...] } }
 * ```
 */
export function createAdminHandlers(options: AdminHandlerOptions): AdminHandlers {
  if (typeof options?.pat?.list !== 'function') {
    throw new TypeError('pat must implement the access-token methods (list, issue, ...)');
  }
  if (typeof options.signerVerifier?.verify !== 'function') {
    throw new TypeError('signerVerifier is required (tessera/jwt buildSignerVerifier)');
  }
  const pat: AccessTokenMethods = options.pat;
  const sv = options.signerVerifier;
  const clock: Clock = options.clock ?? systemClock;
  const logger = options.logger;
  const guard = createJwtGuard(options);

  const badBody = (issues: readonly Issue[] | null) =>
    seedError(400, 'Invalid request body', {
      details: issues ? prettify(issues) : 'Malformed request body',
    });
  const badQuery = (issues: readonly Issue[]) =>
    seedError(400, 'Invalid query parameters', { details: prettify(issues) });

  /** Run `body` after the admin check, mapping access-token errors to answers. */
  const admin =
    (body: (req: HttpRequest) => Promise<HttpResponse>): Handler =>
    async (req) => {
      try {
        const auth = await guard.authenticate(req.headers.authorization);
        if (!auth.ok) return auth.response;
        const denied = guard.requireAdmin(auth.user);
        if (denied) return denied;
        if (req.body === MALFORMED_BODY) return badBody(null);
        return await body(req);
      } catch (err) {
        return patErrorAnswer(err, logger);
      }
    };
  const tokenIdOf = (req: HttpRequest) => req.params.tokenId ?? '';
  /** Whether an update (seed shape: expiry in epoch seconds) must deny the token's minted JWTs. */
  const takesAway = (body: Parameters<AccessTokenMethods['update']>[1]): boolean =>
    updateRevokesMinted(
      {
        ...body,
        expiresAt: typeof body.expiresAt === 'number' ? body.expiresAt * 1000 : body.expiresAt,
      },
      clock.now(),
      mintedLifetimeMs(sv),
    );

  const list = admin(async (req) => {
    const q = req.query;
    const issues = checkObject(
      q,
      {
        afterTokenId: queryString(),
        limit: positiveLimit,
        includeRevoked: queryString(),
        includeExpired: queryString(),
        includeSecretPhc: queryString(),
        hasRole: queryString(),
      },
      false,
    );
    if (issues.length > 0) return badQuery(issues);
    const limit =
      q.limit === undefined
        ? DEFAULT_LIST_LIMIT
        : Math.min(MAX_LIST_LIMIT, Number.parseInt(q.limit as string, 10));
    const includeRevoked = flag(q.includeRevoked) === true;
    const includeExpired = flag(q.includeExpired) === true;
    const includeSecretPhc = flag(q.includeSecretPhc);
    const nowSeconds = Math.floor(clock.now() / 1000);
    const filtering = !includeRevoked || !includeExpired;
    const records: PatRecord[] = [];
    const iterable = pat.list({
      ...(q.afterTokenId !== undefined ? { afterTokenId: q.afterTokenId as string } : {}),
      ...(filtering ? {} : { limit }),
      ...(includeSecretPhc !== undefined ? { includeSecretPhc } : {}),
      ...(q.hasRole !== undefined ? { hasRole: q.hasRole as string } : {}),
    });
    for await (const r of iterable) {
      if (!includeRevoked && r.revokedAt != null) continue;
      if (!includeExpired && r.expiresAt && r.expiresAt <= nowSeconds) continue;
      records.push(r);
      if (records.length >= limit) break;
    }
    return json(200, { records }, NO_STORE);
  });

  const batch = admin(async (req) => {
    const issues = checkObject(req.body, BATCH_FIELDS, true);
    if (issues.length > 0) return badBody(issues);
    const b = req.body as { tokenIds: string[]; includeSecretPhc?: boolean };
    const r = await pat.batchLoad(new Set(b.tokenIds), {
      includeSecretPhc: b.includeSecretPhc === true,
    });
    return json(200, { found: r.found, notFound: r.notFound }, NO_STORE);
  });

  const issue = admin(async (req) => {
    const issues = checkObject(req.body, ISSUE_FIELDS, true);
    if (issues.length > 0) return badBody(issues);
    const b = req.body as Parameters<AccessTokenMethods['issue']>[0];
    const r = await pat.issue({
      owner: b.owner,
      isAdmin: b.isAdmin ?? false,
      ...(b.roles !== undefined ? { roles: b.roles } : {}),
      ...(b.expiresAt !== undefined ? { expiresAt: b.expiresAt } : {}),
      ...(b.tokenId !== undefined ? { tokenId: b.tokenId } : {}),
    });
    return json(201, { token: r.token, record: r.record }, NO_STORE);
  });

  const register = admin(async (req) => {
    const issues = checkObject(req.body, REGISTER_FIELDS, true);
    if (issues.length > 0) return badBody(issues);
    const b = req.body as Omit<Parameters<AccessTokenMethods['register']>[0], 'tokenId'>;
    const record = await pat.register({
      tokenId: tokenIdOf(req),
      secretPhc: b.secretPhc,
      owner: b.owner,
      isAdmin: b.isAdmin ?? false,
      ...(b.roles !== undefined ? { roles: b.roles } : {}),
      ...(b.expiresAt !== undefined ? { expiresAt: b.expiresAt } : {}),
    });
    return json(200, { record }, NO_STORE);
  });

  const update = admin(async (req) => {
    const issues = checkObject(req.body, UPDATE_FIELDS, true);
    if (issues.length > 0) return badBody(issues);
    const body = req.body as Parameters<AccessTokenMethods['update']>[1];
    const tokenId = tokenIdOf(req);
    await pat.update(tokenId, body);
    // After the change, so a JWT minted in between is denied too.
    if (sv.canRevoke && takesAway(body)) await sv.revokeSubject(tokenId);
    return empty(204);
  });

  const revoke = admin(async (req) => {
    const body = req.body === undefined ? {} : req.body;
    const issues = checkObject(body, REVOKE_FIELDS, true);
    if (issues.length > 0) return badBody(issues);
    const { expiresAt } = body as { expiresAt?: number };
    const tokenId = tokenIdOf(req);
    await pat.revoke(tokenId, expiresAt !== undefined ? { expiresAt } : undefined);
    if (sv.canRevoke) await sv.revokeSubject(tokenId);
    return empty(204);
  });

  const restore = admin(async (req) => {
    await pat.restore(tokenIdOf(req));
    return empty(204);
  });

  return Object.freeze({ list, batch, issue, register, update, revoke, restore });
}
