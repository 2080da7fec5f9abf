/**
 * The constructor options of the ms-token facade: ms-token's own shape
 * (`backend: { name: 'redis', connection, prefix }`, `encrypt: { algorithm,
 * sharedSecret }`), or any Tessera store (`store`), plus Tessera extensions.
 * @module
 */
import type { AttemptBudget, Ttl } from '../../challenges/types.js';
import type { Clock } from '../../core/clock.js';
import type { Keyring } from '../../core/keyring.js';
import type { Store } from '../../stores/contract.js';
import { MS_TOKEN_DEFAULT_PREFIX } from './legacy/layout.js';
import {
  alternatives,
  checkInteger,
  checkString,
  invalid,
  isObject,
  notOneOf,
  rejectUnknown,
  requireObject,
} from './validation.js';

/** ms-token's `encrypt.sharedSecret`: at least 32 bytes, or `{ legacy, current }`. */
export type SharedSecret =
  | string
  | Uint8Array
  | { legacy: string | Uint8Array; current: string | Uint8Array };

/** Options of the facade's constructor. */
export interface TokenManagerOptions {
  /** ms-token's backend: only `redis`, with an ioredis `Redis` or `Cluster` connection. */
  backend?: { name: 'redis'; connection: unknown; prefix?: string };
  /** Any Tessera store, instead of `backend` (the caller runs its `migrate()`). */
  store?: Store;
  /**
   * `algorithm` decrypts ms-token `v1` tokens (new tokens are always sealed
   * with AES-256-GCM); `sharedSecret` is the `v1` key and seeds the keyring
   * that hashes secrets and seals new tokens (`current` when given as
   * `{ legacy, current }`; `legacy` is accepted and unused, as in ms-token 6).
   */
  encrypt: { algorithm: string; sharedSecret: SharedSecret };
  /** Tessera: time source (default: the system clock). */
  clock?: Clock;
  /**
   * Tessera: the ttl of a `create` without one, in seconds or `'never'`.
   * Without it, `create` requires `ttl` (ms-token kept such tokens forever).
   */
  defaultTtl?: Ttl;
  /** Tessera: attempt budgets on plain secrets (see `tessera/challenges`). */
  attemptBudget?: AttemptBudget;
  /** Tessera: a keyring to use instead of one derived from `sharedSecret` (for key rotation). */
  keyring?: Keyring;
  /**
   * Tessera, with `backend` only: where the challenges ms-token itself wrote
   * live, so that they keep working during a migration (a lookup that finds no
   * Tessera challenge falls back to them). Default: `backend.prefix`, else
   * ms-token 5.0.1's default `{ms-token!5.0.1}`. `false` turns the fallback
   * off (saving a round trip on misses and on `create`) once no ms-token
   * challenge is left. On a Redis Cluster the fallback needs a prefix with a
   * hash tag (ms-token could not run without one), and is off otherwise.
   */
  legacyPrefix?: string | false;
}

/** Validated options. */
export interface ResolvedConfig {
  readonly store: Store | undefined;
  readonly connection: unknown;
  readonly prefix: string | undefined;
  readonly algorithm: string;
  readonly sharedSecret: Buffer;
  readonly clock: Clock | undefined;
  readonly defaultTtl: Ttl | undefined;
  readonly attemptBudget: AttemptBudget | undefined;
  readonly keyring: Keyring | undefined;
  /** The ms-token prefix to fall back to, or `undefined` for no fallback. */
  readonly legacyPrefix: string | undefined;
}

/**
 * Methods the facade calls on an ioredis connection (the Tessera Redis store
 * and the reads of ms-token's own keys), present on `Redis` and `Cluster` of
 * ioredis 4 (what ms-token 5 requires) and ioredis 5.
 */
const CLIENT_METHODS = [
  'defineCommand',
  'evalsha',
  'eval',
  'hgetall',
  'pttl',
  'duplicate',
  'pipeline',
  'multi',
  'publish',
  'quit',
  'disconnect',
  'on',
  'once',
] as const;

/**
 * Whether `c` is an ioredis `Redis` or `Cluster`, of ioredis 4 or 5. ioredis
 * is not imported (it is an optional peer, and ms-token users bring their
 * own major version), and its classes mix `EventEmitter` into their prototype
 * (so `constructor.name` says `EventEmitter`): recognise them by their shape
 * instead: a `status` string, the command methods the facade uses, and
 * `isCluster`, which ioredis 5 sets on both classes and ioredis 4 only on
 * `Cluster` (a cluster must also list its `nodes`).
 */
export function isRedisClient(c: unknown): boolean {
  if (typeof c !== 'object' || c === null) return false;
  const r = c as Record<string, unknown>;
  if (typeof r.status !== 'string') return false;
  if (r.isCluster !== undefined && typeof r.isCluster !== 'boolean') return false;
  if (r.isCluster === true && typeof r.nodes !== 'function') return false;
  return CLIENT_METHODS.every((m) => typeof r[m] === 'function');
}

/** Whether `s` looks like a Tessera store. */
export function isStore(s: unknown): s is Store {
  if (!isObject(s)) return false;
  return ['get', 'put', 'update', 'delete', 'transact', 'findByIndex'].every(
    (m) => typeof s[m] === 'function',
  );
}

/** Joi's `binary().encoding('utf8').min(min)` (Uint8Arrays accepted too). */
function secretBytes(v: unknown, path: string[], min: number): Buffer {
  if (v === undefined) invalid(path, 'is required', 'any.required');
  let bytes: Buffer;
  if (typeof v === 'string') bytes = Buffer.from(v, 'utf8');
  else if (v instanceof Uint8Array) bytes = Buffer.from(v);
  else return invalid(path, 'must be a buffer or a string', 'binary.base');
  if (bytes.length < min) invalid(path, `must be at least ${min} bytes`, 'binary.min');
  return bytes;
}

/**
 * `encrypt.sharedSecret`: Joi's `alternatives(binary().min(32), object({
 * legacy: binary().min(24), current: binary().min(32) }))`, required.
 */
function resolveSharedSecret(v: unknown): Buffer {
  const path = ['encrypt', 'sharedSecret'];
  if (v === undefined) invalid(path, 'is required', 'any.required');
  return alternatives(path, [
    () => secretBytes(v, path, 32),
    () => {
      const o = requireObject(v, path);
      secretBytes(o.legacy, [...path, 'legacy'], 24);
      const current = secretBytes(o.current, [...path, 'current'], 32);
      rejectUnknown(o, ['legacy', 'current'], path);
      return current;
    },
  ]);
}

/** `backend.connection` with `name: 'redis'`: an ioredis `Redis` or `Cluster`, required. */
function checkConnection(v: unknown): unknown {
  const path = ['backend', 'connection'];
  if (v === undefined) invalid(path, 'is required', 'any.required');
  const client = () => {
    requireObject(v, path);
    if (!isRedisClient(v)) invalid(path, 'must be an instance of ioredis', 'object.instance');
    return v;
  };
  // Joi tries `object().instance(Redis)`, then `object().instance(Cluster)`.
  return alternatives(path, [client, client]);
}

/**
 * Validate the constructor options.
 * @throws ValidationError with ms-token's messages (`"backend.name" must be [redis]`,
 *   `"backend.connection" does not match any of the allowed types`, `"encrypt" is required`,
 *   `"encrypt.sharedSecret" must be at least 32 bytes`...)
 */
export function validateConfig(opts: unknown): ResolvedConfig {
  const o = requireObject(opts, []);
  let store: Store | undefined;
  let connection: unknown;
  let prefix: string | undefined;
  let legacyPrefix: string | undefined;
  if (o.store !== undefined) {
    if (!isStore(o.store)) invalid(['store'], 'must be a Tessera store', 'any.custom');
    if (o.backend !== undefined) invalid(['backend'], 'is not allowed with "store"', 'any.unknown');
    if (o.legacyPrefix !== undefined && o.legacyPrefix !== false) {
      invalid(['legacyPrefix'], 'is not allowed with "store"', 'any.unknown');
    }
    store = o.store;
  } else {
    const backend = requireObject(o.backend, ['backend']);
    if (backend.name === undefined) invalid(['backend', 'name'], 'is required', 'any.required');
    if (backend.name !== 'redis') notOneOf(['backend', 'name'], ['redis']);
    connection = checkConnection(backend.connection);
    prefix = checkString(backend.prefix, ['backend', 'prefix'], false);
    rejectUnknown(backend, ['name', 'connection', 'prefix'], ['backend']);
    if (o.legacyPrefix !== false) {
      legacyPrefix =
        checkString(o.legacyPrefix, ['legacyPrefix'], false) ?? prefix ?? MS_TOKEN_DEFAULT_PREFIX;
    }
  }
  const encrypt = requireObject(o.encrypt, ['encrypt']);
  const algorithm = checkString(encrypt.algorithm, ['encrypt', 'algorithm'], true) as string;
  const sharedSecret = resolveSharedSecret(encrypt.sharedSecret);
  rejectUnknown(encrypt, ['algorithm', 'sharedSecret'], ['encrypt']);
  if (o.clock !== undefined && !(isObject(o.clock) && typeof o.clock.now === 'function')) {
    invalid(['clock'], 'must be a clock ({ now() })', 'any.custom');
  }
  let defaultTtl: Ttl | undefined;
  if (o.defaultTtl !== undefined) {
    defaultTtl = o.defaultTtl === 'never' ? 'never' : checkInteger(o.defaultTtl, ['defaultTtl'], 1);
  }
  if (o.attemptBudget !== undefined && !isObject(o.attemptBudget)) {
    invalid(['attemptBudget'], 'must be of type object', 'object.base');
  }
  if (
    o.keyring !== undefined &&
    !(isObject(o.keyring) && typeof o.keyring.deriveKey === 'function')
  ) {
    invalid(['keyring'], 'must be a Keyring', 'any.custom');
  }
  rejectUnknown(
    o,
    [
      'backend',
      'store',
      'encrypt',
      'clock',
      'defaultTtl',
      'attemptBudget',
      'keyring',
      'legacyPrefix',
    ],
    [],
  );
  return {
    store,
    connection,
    prefix,
    algorithm,
    sharedSecret,
    clock: o.clock as Clock | undefined,
    defaultTtl,
    attemptBudget: o.attemptBudget as AttemptBudget | undefined,
    keyring: o.keyring as Keyring | undefined,
    legacyPrefix,
  };
}
