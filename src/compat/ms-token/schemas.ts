/**
 * The argument schemas of ms-token's methods, checked by hand with Joi's
 * messages (see `validation.ts`).
 * @module
 */
import type { SecretSettings, Ttl } from '../../challenges/types.js';
import type { Json } from '../../stores/contract.js';
import {
  alternatives,
  checkBoolean,
  checkInteger,
  checkString,
  invalid,
  isObject,
  normalizeMetadata,
  notOneOf,
  present,
  rejectUnknown,
  requireObject,
  toBoolean,
  ValidationError,
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

/** `ttl`: Joi's `number().integer().min(0)`, and the facade's `'never'`. */
function checkTtl(v: unknown): Ttl | undefined {
  if (v === undefined || v === 'never') return v;
  return checkInteger(v, ['ttl'], 0);
}

/**
 * `throttle`: Joi's `alternatives(number().integer().min(0).max(ref('ttl')),
 * boolean().valid(true))`. Without a numeric ttl the reference fails, as in
 * ms-token (the facade's `ttl: 'never'` allows any number of seconds).
 */
function checkThrottle(v: unknown, ttl: Ttl | undefined): number | true | undefined {
  if (v === undefined) return undefined;
  const path = ['throttle'];
  return alternatives<number | true>(path, [
    () => {
      const n = checkInteger(v, path, 0);
      if (ttl === 'never') return n;
      if (typeof ttl !== 'number') {
        invalid(path, 'limit references "ref:ttl" which must be a number', 'any.ref');
      }
      if (n > ttl) invalid(path, 'must be less than or equal to ref:ttl', 'number.max');
      return n;
    },
    () => {
      if (toBoolean(v) !== true) notOneOf(path, [true]);
      return true;
    },
  ]);
}

/** `secret` as an object: `{ type, alphabet, length, encrypt }` (Joi's rules, in its order). */
function checkSecretObject(v: unknown): SecretSettings {
  const o = requireObject(v, ['secret']);
  const type = o.type;
  if (type === undefined) invalid(['secret', 'type'], 'is required', 'any.required');
  if (type !== 'alphabet' && type !== 'number' && type !== 'uuid') {
    notOneOf(['secret', 'type'], ['alphabet', 'number', 'uuid']);
  }
  let alphabet: string | undefined;
  if (type === 'alphabet') {
    alphabet = checkString(o.alphabet, ['secret', 'alphabet'], true);
  } else if (o.alphabet !== undefined) {
    invalid(['secret', 'alphabet'], 'is not allowed', 'any.unknown');
  }
  let length: number | undefined;
  if (type === 'uuid') {
    if (o.length !== undefined) invalid(['secret', 'length'], 'is not allowed', 'any.unknown');
  } else {
    if (o.length === undefined) invalid(['secret', 'length'], 'is required', 'any.required');
    length = checkInteger(o.length, ['secret', 'length'], 1);
  }
  const encrypt = checkBoolean(o.encrypt, ['secret', 'encrypt']) ?? type === 'uuid';
  rejectUnknown(o, ['type', 'alphabet', 'length', 'encrypt'], ['secret']);
  if (type === 'uuid') return { type, encrypt };
  if (type === 'number') return { type, length, encrypt };
  return { type, alphabet: alphabet as string, length, encrypt };
}

/** `secret`: Joi's `alternatives(boolean(), object(...))`, default `true`. */
function checkSecret(v: unknown): SecretSettings | false {
  if (v === undefined) return { type: 'uuid', encrypt: true };
  const s = alternatives<boolean | SecretSettings>(
    ['secret'],
    [() => checkBoolean(v, ['secret']) as boolean, () => checkSecretObject(v)],
  );
  if (s === true) return { type: 'uuid', encrypt: true };
  return s;
}

/**
 * What the facade refuses on purpose after ms-token's own rules pass:
 * `ttl: 0` (ask for `'never'` instead), `throttle: true` with `ttl: 'never'`,
 * generated secrets shorter than {@link MIN_SECRET_LENGTH}, alphabets of fewer
 * than 2 distinct characters (repeated characters are kept once).
 */
function stricter(
  ttl: Ttl | undefined,
  throttle: number | true | undefined,
  secret: SecretSettings | false,
): SecretSettings | false {
  if (ttl === 0) invalid(['ttl'], 'must be greater than or equal to 1', 'number.min');
  if (ttl === 'never' && throttle === true) {
    invalid(['throttle'], 'must be a number when "ttl" is never', 'any.custom');
  }
  if (secret === false || secret.type === 'uuid') return secret;
  if ((secret.length ?? 0) < MIN_SECRET_LENGTH) {
    invalid(
      ['secret', 'length'],
      `must be greater than or equal to ${MIN_SECRET_LENGTH}`,
      'number.min',
    );
  }
  if (secret.type === 'number') return secret;
  const distinct = [...new Set(Array.from(secret.alphabet))].join('');
  if (Array.from(distinct).length < 2) {
    invalid(['secret', 'alphabet'], 'must contain at least 2 distinct characters', 'any.custom');
  }
  return { ...secret, alphabet: distinct };
}

/**
 * Validate `create` arguments: ms-token's Joi rules in Joi's order (keys in
 * schema order, then unknown keys, then `throttle` needing `ttl`), then what
 * the facade refuses on purpose (see {@link stricter}).
 * @throws ValidationError with ms-token's messages; TypeError when `JSON.stringify` refuses the metadata
 */
export function validateCreate(args: unknown): CreateArgs {
  const o = requireObject(args, []);
  const action = checkString(o.action, ['action'], true) as string;
  const id = checkString(o.id, ['id'], true) as string;
  const ttl = checkTtl(o.ttl);
  const throttle = checkThrottle(o.throttle, ttl);
  checkBoolean(o.legacy, ['legacy']);
  const checked = checkSecret(o.secret);
  let regenerate = false;
  if (o.regenerate !== undefined) {
    if (checked === false) {
      if (toBoolean(o.regenerate) !== false) notOneOf(['regenerate'], [false]);
    } else {
      regenerate = checkBoolean(o.regenerate, ['regenerate']) as boolean;
    }
  }
  rejectUnknown(
    o,
    ['action', 'id', 'ttl', 'throttle', 'metadata', 'legacy', 'secret', 'regenerate'],
    [],
  );
  if (throttle !== undefined && o.ttl === undefined) {
    // Joi reports a missing peer at the object, labelled with the key that needs it.
    throw new ValidationError('"throttle" missing required peer "ttl"', [], 'object.with');
  }
  const secret = stricter(ttl, throttle, checked);
  return { action, id, ttl, throttle, metadata: normalizeMetadata(o.metadata), secret, regenerate };
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
    // In the caller's order, which is the order ms-token checks them in.
    for (const key of Object.keys(c)) {
      if (key === 'id' && cid !== undefined) control.id = cid;
      if (key === 'action' && caction !== undefined) control.action = caction;
    }
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

/**
 * ms-token's alternatives of object shapes (`info`, `regenerate`, `remove`)
 * answer a value that is not an object with `must be one of [object]`; an
 * absent argument passes its validation and then fails, reading the
 * argument, with this TypeError (`name` is the variable ms-token reads).
 */
function requireShapes(args: unknown, name: 'opts' | 'undefined'): Record<string, unknown> {
  if (args === undefined) {
    throw new TypeError(`Cannot destructure property 'uid' of '${name}' as it is undefined.`);
  }
  if (!isObject(args)) {
    invalid([], 'must be one of [object]', 'alternatives.types', { types: ['object'] });
  }
  return args;
}

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
 * @throws ValidationError (`"value" does not match any of the allowed types`,
 *   `"value" must be one of [object]`); TypeError for no argument, as ms-token
 */
export function validateInfo(args: unknown): InfoArgs {
  const o = requireShapes(args, 'opts');
  const encrypt = toBoolean(o.encrypt);
  if (shape(o, ['action', 'id']) && nonEmpty(o.action) && nonEmpty(o.id)) {
    return { kind: 'id', action: o.action, id: o.id };
  }
  if (shape(o, ['uid']) && nonEmpty(o.uid)) return { kind: 'uid', uid: o.uid };
  if (shape(o, ['token', 'encrypt']) && nonEmpty(o.token) && encrypt === true) {
    return { kind: 'token', token: o.token };
  }
  if (
    shape(o, ['action', 'id', 'token', 'encrypt']) &&
    nonEmpty(o.action) &&
    nonEmpty(o.id) &&
    nonEmpty(o.token) &&
    encrypt === false
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
  const a = requireShapes(args, 'undefined');
  if (shape(a, ['action', 'id']) && nonEmpty(a.action) && nonEmpty(a.id)) {
    return { action: a.action, id: a.id };
  }
  if (shape(a, ['uid']) && nonEmpty(a.uid)) return { uid: a.uid };
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
  const a = requireShapes(args, 'opts');
  const known = Object.keys(a).every(
    (k) => a[k] === undefined || ['uid', 'action', 'id', 'token'].includes(k),
  );
  if (known && nonEmpty(a.action) && nonEmpty(a.id)) {
    if (a.token !== undefined && !nonEmpty(a.token)) {
      return invalid([], NO_MATCH, 'alternatives.match');
    }
    return { kind: 'id', action: a.action, id: a.id, token: a.token };
  }
  if (shape(a, ['uid']) && nonEmpty(a.uid)) return { kind: 'uid', uid: a.uid };
  return invalid([], NO_MATCH, 'alternatives.match');
}
