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
 *
 * On an ioredis connection, the challenges ms-token itself wrote keep
 * working (see `legacy/legacy.ts` and the `legacyPrefix` option): a lookup
 * that finds no Tessera challenge falls back to ms-token's keys, and
 * `create` honours ms-token's throttle window and replaces its challenge.
 * @module
 */
import { createChallenges } from '../../challenges/challenges.js';
import { createTokenCodec, type TokenCodec } from '../../challenges/sealing.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { createKeyring, type Keyring } from '../../core/keyring.js';
import { loadRedisStore } from './backend.js';
import { type ResolvedConfig, type TokenManagerOptions, validateConfig } from './config.js';
import * as fallbacks from './fallbacks.js';
import { createAdopter } from './legacy/adopt.js';
import { legacyLayout, sharesSlot } from './legacy/layout.js';
import { createLegacy } from './legacy/legacy.js';
import type { LegacyClient } from './legacy/script.js';
import {
  type CreatedToken,
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
} from './schemas.js';
import { type DecodedToken, decodeToken } from './tokens.js';
import { invalid, ValidationError } from './validation.js';
import { checkVerifyCall } from './verify-input.js';

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
  readonly #clock: Clock;
  #backend: Promise<fallbacks.Backend> | undefined;

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
    this.#clock = this.#cfg.clock ?? systemClock;
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

  /** The native module (and the legacy fallback), built on first use (a failed build is retried). */
  #challenges(): Promise<fallbacks.Backend> {
    this.#backend ??= (async () => {
      const cfg = this.#cfg;
      const store = cfg.store ?? (await loadRedisStore(cfg.connection, cfg.prefix));
      const native = createChallenges({
        store,
        keyring: this.#keyring,
        clock: cfg.clock,
        attemptBudget: cfg.attemptBudget,
      });
      // On a cluster, ms-token could only run under a prefix with a hash tag: without one
      // there is nothing to fall back to (and the keys would not share a slot).
      const clustered = (cfg.connection as { isCluster?: unknown } | undefined)?.isCluster === true;
      const legacy =
        cfg.store !== undefined ||
        cfg.legacyPrefix === undefined ||
        (clustered && !sharesSlot(cfg.legacyPrefix))
          ? undefined
          : createLegacy({
              client: cfg.connection as LegacyClient,
              layout: legacyLayout(cfg.legacyPrefix),
              adopter: createAdopter(native),
              open: (token) => this.#openV1(token),
            });
      return { native, legacy, clock: this.#clock };
    })().catch((err: unknown) => {
      this.#backend = undefined;
      throw err;
    });
    return this.#backend;
  }

  /** The secret inside an ms-token `v1` token, or `undefined`. */
  #openV1(token: string): string | undefined {
    try {
      const d = this.#decode(token);
      return d.kind === 'v1' ? d.payload.token : undefined;
    } catch {
      return undefined;
    }
  }

  #decode(token: string): DecodedToken {
    return decodeToken(token, this.#codec, this.#cfg.algorithm, this.#cfg.sharedSecret);
  }

  /**
   * Create a challenge. Returns `{ id, action, uid?, secret? }`. On an ioredis
   * connection it first honours ms-token's own throttle window for the action
   * and id, and deletes the challenge ms-token holds there (as ms-token's
   * re-creation does).
   * @throws ValidationError; Error `'429'` with `reason.ttl` while a throttle window is open
   */
  async create(args: unknown): Promise<CreatedToken> {
    const a = validateCreate(args);
    const ttl = a.ttl ?? this.#cfg.defaultTtl;
    if (ttl === undefined) invalid(['ttl'], 'is required', 'any.required');
    const { native, legacy } = await this.#challenges();
    try {
      if (legacy !== undefined) {
        const wait = await legacy.clearForCreate(a.action, a.id, this.#clock.now());
        if (wait !== null) throw httpError('429', 'ms-token throttle window', wait);
      }
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
    const backend = await this.#challenges();
    try {
      switch (a.kind) {
        case 'id':
          return await fallbacks.infoBy(backend, { action: a.action, id: a.id }, undefined);
        case 'uid':
          return await fallbacks.infoBy(backend, { uid: a.uid }, undefined);
        case 'plain':
          return await fallbacks.infoWithSecret(backend, a.action, a.id, a.token);
        default: {
          const d = this.#decode(a.token);
          if (d.kind === 'sealed') {
            const p = d.payload;
            const { native } = backend;
            const c =
              p.uid !== null ? await native.info({ uid: p.uid }) : await native.info(d.token);
            return toResponse(c, p.secret);
          }
          const p = d.payload;
          // As ms-token: a token that carries a uid is looked up by its uid.
          if (typeof p.uid === 'string' && p.uid.length > 0) {
            return await fallbacks.infoBy(backend, { uid: p.uid }, p.token);
          }
          const v = validateVerifyArgs({ id: p.id, action: p.action, token: p.token });
          return await fallbacks.infoWithSecret(backend, v.action, v.id, p.token);
        }
      }
    } catch (err) {
      throw translate(err);
    }
  }

  /**
   * A new secret for a challenge created with `regenerate: true`, by
   * `{ uid }` or `{ action, id }`: the sealed token or the plain secret.
   * An ms-token challenge is moved into a Tessera challenge first (same uid,
   * metadata and expiry), so its earlier tokens stop working.
   * @throws ValidationError, Error `'404'`, Error `'409'` (a parallel regenerate or remove)
   */
  async regenerate(args: unknown): Promise<string> {
    const lookup = validateRegenerate(args);
    const backend = await this.#challenges();
    try {
      return await fallbacks.regenerate(backend, lookup);
    } catch (err) {
      throw translate(err);
    }
  }

  /**
   * Complete a challenge: a token string, or `{ id, action, token }`
   * (`{ id, action }` for a live `secret: false` challenge; without a token
   * anything else answers ms-token's `"token" is required`). Options: `erase`
   * (default true), `log`, `control: { id?, action? }`.
   * @throws ValidationError, Error `'invalid token'`, AssertionError ("Sanity check failed..."),
   *   Error `'404'` or `'429'` (with `e.args`), TypeError without arguments (as ms-token)
   */
  async verify(args: unknown, opts?: unknown): Promise<TokenResponse> {
    const { parsed, input, opts: o } = checkVerifyCall(args, opts, (t) => this.#decode(t));
    const backend = await this.#challenges();
    try {
      return await fallbacks.verify(backend, input, parsed, o);
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
    const backend = await this.#challenges();
    try {
      if (sealed !== undefined) {
        const { native } = backend;
        const c = await native.info(sealed);
        if (!(await native.remove(sealed, { generation: c.generation }))) {
          throw httpError('404', 'not removed');
        }
        return '200';
      }
      return await fallbacks.remove(backend, target);
    } catch (err) {
      throw translate(err);
    }
  }
}

export default TokenManager;
