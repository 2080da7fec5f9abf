/**
 * A drop-in for ms-token's `TokenManager`, backed by `tessera/challenges` on
 * any Tessera store.
 *
 * Same constructor shape, methods, Joi-style validation messages, error
 * messages (`'404'`, `'409'`, `'429'` with `reason.ttl`, `'invalid token'`,
 * the "Sanity check failed" AssertionError), `e.args` on verify errors, and
 * return shapes (`remove` resolves to `'200'`). What changes, on purpose:
 * - secrets come from the CSPRNG and are stored only as HMAC digests, so
 *   `info` by uid or by action + id has no `secret` field (verify and
 *   info by token return the secret the caller presented);
 * - new tokens are sealed with AES-256-GCM (`v1.ms-token.<...>`); ms-token
 *   `v1` (AES-CBC) tokens are still read, never written;
 * - plain secrets draw on attempt budgets: 5 wrong per challenge (then `'404'`),
 *   10 per (action, id) per 15 minutes (then `'429'` with `reason.ttl`);
 * - `regenerate` invalidates every earlier token (no replay) and needs a
 *   challenge created with `regenerate: true` (else `'404'`);
 * - `secret: false` challenges verify with `{ action, id }` and can be removed;
 * - `ttl: 0` is refused: pass `ttl: 'never'` (or the `defaultTtl` option) for a
 *   challenge that never expires; a `create` without ttl needs `defaultTtl`;
 * - `number`/`alphabet` secrets have at least 4 characters;
 * - responses never include internal key names (`related`, `throttleKey`).
 * @module
 */
import { AssertionError } from 'node:assert';
import { createChallenges } from '../../challenges/challenges.js';
import type { Challenges } from '../../challenges/index.js';
import { createTokenCodec, type TokenCodec } from '../../challenges/sealing.js';
import type { VerifiedChallenge } from '../../challenges/types.js';
import { createKeyring, type Keyring } from '../../core/keyring.js';
import { loadRedisStore } from './backend.js';
import { type ResolvedConfig, type TokenManagerOptions, validateConfig } from './config.js';
import {
  type CreatedToken,
  fromReason,
  httpError,
  type TokenResponse,
  toResponse,
  translate,
} from './responses.js';
import {
  validateCreate,
  validateInfo,
  validateRegenerate,
  validateRemove,
  validateVerifyArgs,
  validateVerifyOpts,
} from './schemas.js';
import { type DecodedToken, decodeToken } from './tokens.js';
import { invalid, ValidationError } from './validation.js';

/** Key id of the keyring derived from `encrypt.sharedSecret` (visible in sealed tokens). */
const KEY_ID = 'ms-token';

/**
 * ms-token's `TokenManager` over Tessera challenges.
 *
 * @example
 * ```ts
 * import TokenManager from 'tessera/compat/ms-token';
 * const manager = new TokenManager({
 *   backend: { name: 'redis', connection: new Redis(), prefix: 'ms-token:' },
 *   encrypt: { algorithm: 'aes256', sharedSecret: process.env.MS_TOKEN_SECRET! },
 *   defaultTtl: 'never',
 * });
 * const { secret } = await manager.create({ action: 'register', id: 'a@example.com', ttl: 3600 });
 * const done = await manager.verify(secret); // done.isFirstVerification === true
 * ```
 */
export class TokenManager {
  /** The configuration (without the shared secret). */
  readonly config: Readonly<{
    backend:
      | Readonly<{ name: 'redis'; connection: unknown; prefix: string | undefined }>
      | undefined;
    encrypt: Readonly<{ algorithm: string }>;
  }>;
  readonly #cfg: ResolvedConfig;
  readonly #keyring: Keyring;
  readonly #codec: TokenCodec;
  #native: Promise<Challenges> | undefined;

  /**
   * @param opts - ms-token's options, or `{ store, encrypt }`; see {@link TokenManagerOptions}
   * @throws ValidationError with ms-token's messages for bad options
   */
  constructor(opts: TokenManagerOptions) {
    this.#cfg = validateConfig(opts);
    this.#keyring =
      this.#cfg.keyring ??
      createKeyring({ keys: [{ id: KEY_ID, secret: new Uint8Array(this.#cfg.sharedSecret) }] });
    this.#codec = createTokenCodec(this.#keyring);
    this.config = Object.freeze({
      backend:
        this.#cfg.store === undefined
          ? Object.freeze({
              name: 'redis' as const,
              connection: this.#cfg.connection,
              prefix: this.#cfg.prefix,
            })
          : undefined,
      encrypt: Object.freeze({ algorithm: this.#cfg.algorithm }),
    });
  }

  /** The native module, built on first use (a failed build is retried on the next call). */
  #challenges(): Promise<Challenges> {
    this.#native ??= (async () => {
      const store =
        this.#cfg.store ?? (await loadRedisStore(this.#cfg.connection, this.#cfg.prefix));
      return createChallenges({
        store,
        keyring: this.#keyring,
        clock: this.#cfg.clock,
        attemptBudget: this.#cfg.attemptBudget,
      });
    })().catch((err: unknown) => {
      this.#native = undefined;
      throw err;
    });
    return this.#native;
  }

  #decode(token: string): DecodedToken {
    return decodeToken(token, this.#codec, this.#cfg.algorithm, this.#cfg.sharedSecret);
  }

  /**
   * Create a challenge. Returns `{ id, action, uid?, secret? }`.
   * @throws ValidationError; Error `'429'` with `reason.ttl` while the throttle window is open
   */
  async create(args: unknown): Promise<CreatedToken> {
    const a = validateCreate(args);
    const ttl = a.ttl ?? this.#cfg.defaultTtl;
    if (ttl === undefined) invalid(['ttl'], 'is required', 'any.required');
    const native = await this.#challenges();
    try {
      const r = await native.create({
        action: a.action,
        id: a.id,
        ttl,
        ...(a.throttle === undefined ? {} : { throttle: a.throttle }),
        metadata: a.metadata,
        secret: a.secret,
        regenerate: a.regenerate,
      });
      const out: CreatedToken = { id: r.id, action: r.action };
      if (r.uid !== undefined) out.uid = r.uid;
      if (r.secret !== undefined) out.secret = r.secret;
      return out;
    } catch (err) {
      throw translate(err);
    }
  }

  /**
   * Associated data of a challenge, without completing it: `{ action, id }`,
   * `{ uid }`, `{ token, encrypt: true }` or `{ action, id, token, encrypt: false }`.
   * @throws ValidationError, Error `'404'`, Error `'invalid token'`, Error `'429'` (attempt budget)
   */
  async info(args: unknown): Promise<TokenResponse> {
    const a = validateInfo(args);
    const native = await this.#challenges();
    try {
      switch (a.kind) {
        case 'id':
          return toResponse(await native.info({ action: a.action, id: a.id }), undefined);
        case 'uid':
          return toResponse(await native.info({ uid: a.uid }), undefined);
        case 'plain':
          return toResponse(
            await native.info({ action: a.action, id: a.id, token: a.token }),
            a.token,
          );
        default: {
          const d = this.#decode(a.token);
          if (d.kind === 'sealed') {
            const p = d.payload;
            const c =
              p.uid !== null ? await native.info({ uid: p.uid }) : await native.info(d.token);
            return toResponse(c, p.secret);
          }
          const p = d.payload;
          if (typeof p.uid === 'string' && p.uid.length > 0) {
            return toResponse(await native.info({ uid: p.uid }), p.token);
          }
          const v = validateVerifyArgs({ id: p.id, action: p.action, token: p.token });
          return toResponse(
            await native.info({ action: v.action, id: v.id, token: p.token }),
            p.token,
          );
        }
      }
    } catch (err) {
      throw translate(err);
    }
  }

  /**
   * A new secret for a challenge created with `regenerate: true`, by
   * `{ uid }` or `{ action, id }`: the sealed token or the plain secret.
   * @throws ValidationError, Error `'404'`, Error `'409'` (a parallel regenerate or remove)
   */
  async regenerate(args: unknown): Promise<string> {
    const lookup = validateRegenerate(args);
    const native = await this.#challenges();
    try {
      return (await native.regenerate(lookup)).secret;
    } catch (err) {
      throw translate(err);
    }
  }

  /**
   * Complete a challenge: a token string, or `{ id, action, token }`
   * (`{ id, action }` for a `secret: false` challenge). Options: `erase`
   * (default true), `log`, `control: { id?, action? }`.
   * @throws ValidationError, Error `'invalid token'`, AssertionError ("Sanity check failed..."),
   *   Error `'404'` or `'429'` (with `e.args`)
   */
  async verify(args: unknown, opts?: unknown): Promise<TokenResponse> {
    let parsed: { id: string; action: string; token: string | undefined };
    let input: string | { action: string; id: string; token?: string };
    if (typeof args === 'string') {
      const d = this.#decode(args);
      if (d.kind === 'sealed') {
        parsed = { id: d.payload.id, action: d.payload.action, token: d.payload.secret };
        input = d.token;
      } else {
        parsed = validateVerifyArgs(d.payload);
        input = { action: parsed.action, id: parsed.id, token: parsed.token };
      }
    } else {
      parsed = validateVerifyArgs(args);
      input =
        parsed.token === undefined
          ? { action: parsed.action, id: parsed.id }
          : { action: parsed.action, id: parsed.id, token: parsed.token };
    }
    const o = validateVerifyOpts(opts);
    for (const [prop, check] of Object.entries(o.control)) {
      const value = parsed[prop as 'id' | 'action'];
      if (check !== value) {
        const err = new AssertionError({
          actual: check,
          expected: value,
          operator: 'strictEqual',
        });
        // Exactly ms-token's message (Node would append a diff to a custom message).
        err.message = `Sanity check failed for "${prop}" failed: "${check}" vs "${value}"`;
        throw err;
      }
    }
    const native = await this.#challenges();
    let result: VerifiedChallenge;
    try {
      const r = await native.tryVerify(input, { erase: o.erase, log: o.log });
      if (!r.valid) throw fromReason(r.reason, r.retryAfterSeconds);
      result = r.challenge;
    } catch (err) {
      const e = translate(err);
      if (e instanceof Error && !(e instanceof ValidationError)) {
        const argsOut =
          parsed.token === undefined
            ? { id: parsed.id, action: parsed.action }
            : { id: parsed.id, action: parsed.action, token: parsed.token };
        Object.defineProperty(e, 'args', {
          value: argsOut,
          enumerable: false,
          writable: true,
          configurable: true,
        });
      }
      throw e;
    }
    return toResponse(result, parsed.token, result.isFirstVerification);
  }

  /**
   * Erase a challenge and its throttle window: a token string, `{ action, id, token? }`
   * or `{ uid }`. Resolves to `'200'`.
   * @throws ValidationError, Error `'invalid token'`, Error `'404'`, Error `'409'` (it changed meanwhile)
   */
  async remove(args: unknown): Promise<'200'> {
    let sealed: string | undefined;
    let target: ReturnType<typeof validateRemove>;
    if (typeof args === 'string') {
      const d = this.#decode(args);
      if (d.kind === 'sealed') {
        sealed = d.token;
        target = { kind: 'id', action: d.payload.action, id: d.payload.id, token: undefined };
      } else {
        target = validateRemove(d.payload);
      }
    } else {
      target = validateRemove(args);
    }
    const native = await this.#challenges();
    try {
      let removed: boolean;
      if (sealed !== undefined) {
        const c = await native.info(sealed);
        removed = await native.remove(sealed, { generation: c.generation });
      } else if (target.kind === 'uid') {
        const c = await native.info({ uid: target.uid });
        removed = await native.remove({ uid: target.uid }, { generation: c.generation });
      } else {
        const { action, id, token } = target;
        const c = await native.info(token === undefined ? { action, id } : { action, id, token });
        removed = await native.remove({ action, id }, { generation: c.generation });
      }
      if (!removed) throw httpError('404', 'not removed');
      return '200';
    } catch (err) {
      throw translate(err);
    }
  }
}

export default TokenManager;
