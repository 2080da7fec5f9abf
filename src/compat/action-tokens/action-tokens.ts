/**
 * A drop-in for @beesolve/action-tokens' `ActionTokens` model class, backed by
 * any Tessera store.
 *
 * Same method names, arguments, return shapes (dates as `Date`) and error
 * classes and messages. What changes, on purpose:
 * - values are stored as HMAC-SHA-256 bound to owner and action, never in plaintext;
 * - concurrent legitimate uses never fail with "modified concurrently";
 * - an expired token that was not cleaned up yet never blocks `createNew`;
 * - use without `owner` works only for tokens whose value has at least 22
 *   characters and an estimated 112 bits (`estimateEntropyBits`: 34 random
 *   digits, 28 hex digits, 22 base64url characters), and never consumes
 *   another owner's token;
 *   short codes need the owner (the seed let anyone brute-force them);
 * - 10 wrong values per (owner, action) lock it for 15 minutes, across resends
 *   (`TokenThrottledError`);
 * - the throttle may take a second key (`throttle.also`, e.g. the client IP).
 * @module
 */
import { createActionTokens } from '../../action-tokens/action-tokens.js';
import { estimateEntropyBits, MIN_LOOKUP_BITS } from '../../action-tokens/entropy.js';
import type { ActionToken, ActionTokens as NativeActionTokens } from '../../action-tokens/index.js';
import { MIN_LOOKUP_VALUE_LENGTH } from '../../action-tokens/types.js';
import type { Clock } from '../../core/clock.js';
import { isTesseraError } from '../../core/errors.js';
import type { Keyring } from '../../core/keyring.js';
import type { JsonObject, Store } from '../../stores/contract.js';
import {
  ExpiredTokenError,
  MalformedTokenError,
  TokenAlreadyExistsError,
  TokenAlreadyUsedUpError,
  TokenDoesNotExistError,
  TokenInvalidError,
  TokenThrottledError,
  UnexpectedError,
} from './errors.js';

/** A token as the seed returns it. */
export interface Token {
  owner: string;
  action: string;
  /** The value, when the call that returns the token was given it. */
  value?: string;
  remainingUses: number;
  createdAt: Date;
  expiresAt: Date;
  data?: Record<string, unknown>;
}

/** Arguments of `createNew`. */
export interface CreateNewProps {
  owner: string;
  action: string;
  value: string;
  remainingUses: number;
  expiresAt: Date;
  data?: Record<string, unknown>;
  overwrite: boolean;
}

/** Constructor options: a Tessera store and keyring instead of a DynamoDB client. */
export interface ActionTokensProps {
  store: Store;
  keyring: Keyring;
  clock?: Clock;
}

function toSeed(t: ActionToken, value?: string): Token {
  const out: Token = {
    owner: t.owner,
    action: t.action,
    remainingUses: t.remainingUses,
    createdAt: new Date(t.createdAt),
    expiresAt: new Date(t.expiresAt),
  };
  if (value !== undefined) out.value = value;
  if (t.data !== undefined) out.data = t.data as Record<string, unknown>;
  return out;
}

function translate(err: unknown, onInvalidInput?: () => Error): Error {
  if (!isTesseraError(err)) return err as Error;
  switch (err.code) {
    case 'ERR_TESSERA_NOT_FOUND':
      return new TokenDoesNotExistError('Token not found.');
    case 'ERR_TESSERA_ALREADY_EXISTS':
      return new TokenAlreadyExistsError('Token already exists.');
    case 'ERR_TESSERA_EXPIRED':
      return new ExpiredTokenError('Token has expired.');
    case 'ERR_TESSERA_USED_UP':
      return new TokenAlreadyUsedUpError('Token cannot be used anymore.');
    case 'ERR_TESSERA_INVALID_VALUE':
      return new TokenInvalidError('Token is invalid.');
    case 'ERR_TESSERA_THROTTLED':
    case 'ERR_TESSERA_LOCKED':
      return new TokenThrottledError(
        'Too many requests. Try again later.',
        (err as unknown as { retryAfterSeconds: number }).retryAfterSeconds,
      );
    case 'ERR_TESSERA_MALFORMED_RECORD':
      return new MalformedTokenError('Malformed token.');
    case 'ERR_TESSERA_CONFLICT':
      return new UnexpectedError(
        'Token was modified concurrently or expired during the operation.',
      );
    case 'ERR_TESSERA_INVALID_INPUT':
      return onInvalidInput ? onInvalidInput() : (err as Error);
    default:
      return err as Error;
  }
}

const CREATE_FAILED = 'Unexpected error occurred while creating token. Token has not been created.';

/**
 * The seed's `ActionTokens` class over a Tessera store.
 *
 * @example
 * ```ts
 * import { ActionTokens, TokenInvalidError } from 'tessera/compat/action-tokens';
 * const tokens = new ActionTokens({ store, keyring });
 * await tokens.createNew({ owner: 'u1', action: 'verify-email', value: '12345678', remainingUses: 5,
 *   expiresAt: new Date(Date.now() + 600_000), overwrite: false });
 * ```
 */
export class ActionTokens {
  readonly #tokens: NativeActionTokens;

  /**
   * @param props - `{ store, keyring, clock? }`
   * @throws TypeError when the store or keyring is missing
   */
  constructor(props: ActionTokensProps) {
    this.#tokens = createActionTokens({
      store: props.store,
      keyring: props.keyring,
      clock: props.clock,
    });
  }

  #createInput(props: CreateNewProps) {
    if (typeof props !== 'object' || props === null || !(props.expiresAt instanceof Date)) {
      throw new MalformedTokenError(CREATE_FAILED);
    }
    const expiresAt = props.expiresAt.getTime();
    if (!Number.isFinite(expiresAt)) throw new MalformedTokenError(CREATE_FAILED);
    return {
      owner: props.owner,
      action: props.action,
      value: props.value,
      remainingUses: props.remainingUses,
      expiresAt,
      data: props.data as JsonObject | undefined,
      overwrite: props.overwrite === true,
      lookup:
        typeof props.value === 'string' &&
        props.value.length >= MIN_LOOKUP_VALUE_LENGTH &&
        estimateEntropyBits(props.value) >= MIN_LOOKUP_BITS,
    };
  }

  /**
   * Create a token. An `expiresAt` in the past is rejected (the seed stored a
   * token that was dead on arrival).
   * @throws TokenAlreadyExistsError, MalformedTokenError (bad input)
   */
  async createNew(props: CreateNewProps): Promise<Token> {
    const input = this.#createInput(props);
    try {
      const { token } = await this.#tokens.create(input);
      return toSeed(token, props.value);
    } catch (err) {
      throw translate(err, () => new MalformedTokenError(CREATE_FAILED));
    }
  }

  /**
   * Create a token unless the throttle window for `throttle.id` (and each of
   * `throttle.also`) is still open; all checked and written in one atomic step.
   * @throws TokenThrottledError, TokenAlreadyExistsError, MalformedTokenError
   */
  async createNewWithThrottling(
    props: CreateNewProps & {
      throttle: {
        id: string;
        windowSeconds: number;
        also?: Array<{ id: string; windowSeconds: number; limit?: number }>;
      };
    },
  ): Promise<Token> {
    const input = this.#createInput(props);
    const t = props.throttle;
    try {
      const { token } = await this.#tokens.create({
        ...input,
        throttle: { id: `id:${t?.id}`, windowSeconds: t?.windowSeconds, also: t?.also },
      });
      return toSeed(token, props.value);
    } catch (err) {
      throw translate(err, () => new MalformedTokenError(CREATE_FAILED));
    }
  }

  /**
   * Use a token: one attempt, right or wrong. `drainWhenValid` (default false,
   * as in the seed) zeroes the remaining uses in the same atomic step.
   * @throws TokenDoesNotExistError, ExpiredTokenError, TokenAlreadyUsedUpError, TokenInvalidError, TokenThrottledError
   */
  async use(props: {
    owner?: string | null;
    action: string;
    value: string;
    drainWhenValid?: boolean;
  }): Promise<Token> {
    try {
      const token = await this.#tokens.use({
        owner: props.owner ?? undefined,
        action: props.action,
        value: props.value,
        drainWhenValid: props.drainWhenValid === true,
      });
      return toSeed(token, props.value);
    } catch (err) {
      throw translate(err);
    }
  }

  /**
   * Read a token without using it.
   * @throws TokenDoesNotExistError, ExpiredTokenError, TokenAlreadyUsedUpError
   */
  async peek(props: { owner: string; action: string }): Promise<Token> {
    try {
      return toSeed(await this.#tokens.peek(props));
    } catch (err) {
      throw translate(err);
    }
  }

  /** Delete a token; does nothing when there is none. */
  async drain(props: { owner: string; action: string }): Promise<void> {
    try {
      await this.#tokens.drain(props);
    } catch (err) {
      throw translate(err);
    }
  }
}
