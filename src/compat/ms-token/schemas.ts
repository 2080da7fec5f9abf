/**
 * The argument schemas of ms-token's methods, checked by hand with Joi's
 * messages (see `validation.ts`).
 * @module
 */
import type { SecretSettings, Ttl } from '../../challenges/types.js';
import type { Json } from '../../stores/contract.js';
import {
  checkBoolean,
  checkInteger,
  checkString,
  invalid,
  isObject,
  normalizeMetadata,
  present,
  rejectUnknown,
  requireObject,
} from './validation.js';

/** Shortest generated `number`/`alphabet` secret the facade accepts (ms-token allowed 1). */
export const MIN_SECRET_LENGTH = 4;

/** Validated arguments of `create`. */
export interface CreateArgs {
  action: string;
  id: string;
  ttl: Ttl | undefined;
  throttle: number | true | undefined;
  metadata: Json;
  secret: SecretSettings | false;
  regenerate: boolean;
}

function checkTtl(v: unknown): Ttl | undefined {
  if (v === undefined || v === 'never') return v;
  return checkInteger(v, ['ttl'], 1);
}

function checkThrottle(v: unknown, ttl: Ttl | undefined): number | true | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') {
    if (!v) invalid(['throttle'], 'must be [true]', 'any.only');
    if (ttl === 'never')
      invalid(['throttle'], 'must be a number when "ttl" is never', 'any.custom');
    return true;
  }
  if (typeof v !== 'number' && typeof v !== 'string') {
    invalid(['throttle'], 'must be one of [number, boolean]', 'alternatives.types');
  }
  const n = checkInteger(v, ['throttle'], 0);
  if (typeof ttl === 'number' && n > ttl) {
    invalid(['throttle'], 'must be less than or equal to ref:ttl', 'number.max');
  }
  return n;
}

function checkSecret(v: unknown): SecretSettings | false {
  if (v === undefined || v === true) return { type: 'uuid', encrypt: true };
  if (v === false) return false;
  if (!isObject(v)) invalid(['secret'], 'must be one of [boolean, object]', 'alternatives.types');
  const type = v.type;
  if (type === undefined) invalid(['secret', 'type'], 'is required', 'any.required');
  if (type !== 'alphabet' && type !== 'number' && type !== 'uuid') {
    invalid(['secret', 'type'], 'must be one of [alphabet, number, uuid]', 'any.only');
  }
  let alphabet: string | undefined;
  if (type === 'alphabet') {
    alphabet = checkString(v.alphabet, ['secret', 'alphabet'], true);
  } else if (v.alphabet !== undefined) {
    invalid(['secret', 'alphabet'], 'is not allowed', 'any.unknown');
  }
  let length: number | undefined;
  if (type === 'uuid') {
    if (v.length !== undefined) invalid(['secret', 'length'], 'is not allowed', 'any.unknown');
  } else {
    if (v.length === undefined) invalid(['secret', 'length'], 'is required', 'any.required');
    length = checkInteger(v.length, ['secret', 'length'], 1);
    if (length < MIN_SECRET_LENGTH) {
      invalid(
        ['secret', 'length'],
        `must be greater than or equal to ${MIN_SECRET_LENGTH}`,
        'number.min',
      );
    }
  }
  const encrypt = checkBoolean(v.encrypt, ['secret', 'encrypt']) ?? type === 'uuid';
  rejectUnknown(v, ['type', 'alphabet', 'length', 'encrypt'], ['secret']);
  if (type === 'uuid') return { type, encrypt };
  if (type === 'number') return { type, length, encrypt };
  // ms-token's generator accepted repeated characters; keep each once.
  const distinct = [...new Set(Array.from(alphabet ?? ''))].join('');
  if (Array.from(distinct).length < 2) {
    invalid(['secret', 'alphabet'], 'must contain at least 2 distinct characters', 'any.custom');
  }
  return { type, alphabet: distinct, length, encrypt };
}

/**
 * Validate `create` arguments.
 * @throws ValidationError with ms-token's messages
 */
export function validateCreate(args: unknown): CreateArgs {
  const o = requireObject(args, []);
  const action = checkString(o.action, ['action'], true) as string;
  const id = checkString(o.id, ['id'], true) as string;
  const ttl = checkTtl(o.ttl);
  const throttle = o.ttl === undefined ? undefined : checkThrottle(o.throttle, ttl);
  const metadata = normalizeMetadata(o.metadata);
  checkBoolean(o.legacy, ['legacy']);
  const secret = checkSecret(o.secret);
  const regenerate = checkBoolean(o.regenerate, ['regenerate']) ?? false;
  if (secret === false && regenerate) invalid(['regenerate'], 'must be [false]', 'any.only');
  rejectUnknown(
    o,
    ['action', 'id', 'ttl', 'throttle', 'metadata', 'legacy', 'secret', 'regenerate'],
    [],
  );
  if (o.throttle !== undefined && o.ttl === undefined) {
    invalid(['throttle'], 'missing required peer "ttl"', 'object.with');
  }
  return { action, id, ttl, throttle, metadata, secret, regenerate };
}

/** Validated arguments of `verify` (object form, or a decoded token). */
export interface VerifyArgs {
  id: string;
  action: string;
  /** Optional here: a `secret: false` challenge verifies without one. */
  token: string | undefined;
}

/**
 * Validate `verify` arguments; any `uid` is stripped, as ms-token does.
 * @throws ValidationError
 */
export function validateVerifyArgs(args: unknown): VerifyArgs {
  const o = requireObject(args, []);
  const id = checkString(o.id, ['id'], true) as string;
  const action = checkString(o.action, ['action'], true) as string;
  const token = checkString(o.token, ['token'], false);
  rejectUnknown(o, ['id', 'action', 'token', 'uid'], []);
  return { id, action, token };
}

/** Validated options of `verify`. */
export interface VerifyOpts {
  erase: boolean;
  log: boolean;
  control: { id?: string; action?: string };
}

/**
 * Validate `verify` options (defaults: erase true, log false, control {}).
 * @throws ValidationError
 */
export function validateVerifyOpts(opts: unknown): VerifyOpts {
  const o = opts === undefined ? {} : requireObject(opts, []);
  const erase = checkBoolean(o.erase, ['erase']) ?? true;
  const log = checkBoolean(o.log, ['log']) ?? false;
  const control: { id?: string; action?: string } = {};
  if (o.control !== undefined) {
    const c = requireObject(o.control, ['control']);
    const cid = checkString(c.id, ['control', 'id'], false);
    const caction = checkString(c.action, ['control', 'action'], false);
    rejectUnknown(c, ['id', 'action'], ['control']);
    if (cid !== undefined) control.id = cid;
    if (caction !== undefined) control.action = caction;
  }
  rejectUnknown(o, ['erase', 'log', 'control'], []);
  return { erase, log, control };
}

/** Validated `info` arguments: exactly one of the four shapes ms-token accepts. */
export type InfoArgs =
  | { kind: 'id'; action: string; id: string }
  | { kind: 'uid'; uid: string }
  | { kind: 'token'; token: string }
  | { kind: 'plain'; action: string; id: string; token: string };

const NO_MATCH = 'does not match any of the allowed types';

function shape(o: Record<string, unknown>, keys: string[]): boolean {
  const have = present(o, ['uid', 'action', 'id', 'token', 'encrypt']);
  return (
    have.length === keys.length &&
    have.every((k) => keys.includes(k)) &&
    Object.keys(o).every((k) => o[k] === undefined || keys.includes(k))
  );
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Validate `info` arguments.
 * @throws ValidationError (`"value" does not match any of the allowed types`)
 */
export function validateInfo(args: unknown): InfoArgs {
  if (!isObject(args)) invalid([], NO_MATCH, 'alternatives.match');
  const o = args;
  if (shape(o, ['action', 'id']) && nonEmpty(o.action) && nonEmpty(o.id)) {
    return { kind: 'id', action: o.action, id: o.id };
  }
  if (shape(o, ['uid']) && nonEmpty(o.uid)) return { kind: 'uid', uid: o.uid };
  if (shape(o, ['token', 'encrypt']) && nonEmpty(o.token) && o.encrypt === true) {
    return { kind: 'token', token: o.token };
  }
  if (
    shape(o, ['action', 'id', 'token', 'encrypt']) &&
    nonEmpty(o.action) &&
    nonEmpty(o.id) &&
    nonEmpty(o.token) &&
    o.encrypt === false
  ) {
    return { kind: 'plain', action: o.action, id: o.id, token: o.token };
  }
  return invalid([], NO_MATCH, 'alternatives.match');
}

/**
 * Validate `regenerate` arguments: `{ action, id }` or `{ uid }`.
 * @throws ValidationError
 */
export function validateRegenerate(
  args: unknown,
): { action: string; id: string } | { uid: string } {
  if (!isObject(args)) invalid([], NO_MATCH, 'alternatives.match');
  if (shape(args, ['action', 'id']) && nonEmpty(args.action) && nonEmpty(args.id)) {
    return { action: args.action, id: args.id };
  }
  if (shape(args, ['uid']) && nonEmpty(args.uid)) return { uid: args.uid };
  return invalid([], NO_MATCH, 'alternatives.match');
}

/** Validated `remove` arguments. */
export type RemoveArgs =
  | { kind: 'id'; action: string; id: string; token: string | undefined }
  | { kind: 'uid'; uid: string };

/**
 * Validate `remove` arguments: `{ action, id, token? }` (a `uid` is stripped)
 * or `{ uid }`.
 * @throws ValidationError
 */
export function validateRemove(args: unknown): RemoveArgs {
  if (!isObject(args)) invalid([], NO_MATCH, 'alternatives.match');
  const known = Object.keys(args).every(
    (k) => args[k] === undefined || ['uid', 'action', 'id', 'token'].includes(k),
  );
  if (known && nonEmpty(args.action) && nonEmpty(args.id)) {
    if (args.token !== undefined && !nonEmpty(args.token)) {
      return invalid([], NO_MATCH, 'alternatives.match');
    }
    return { kind: 'id', action: args.action, id: args.id, token: args.token };
  }
  if (shape(args, ['uid']) && nonEmpty(args.uid)) return { kind: 'uid', uid: args.uid };
  return invalid([], NO_MATCH, 'alternatives.match');
}
