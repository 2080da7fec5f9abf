/**
 * ms-token's argument validation, with the messages its Joi schemas produce
 * (`"backend.name" must be [redis]`, `"id" is required`,
 * `"throttle" must be less than or equal to ref:ttl`...). The first problem
 * found is reported, in the order Joi checks: known keys in schema order,
 * then unknown keys, then peer dependencies.
 * @module
 */
import type { Json } from '../../stores/contract.js';

/** One validation problem, shaped like a Joi error detail. */
export interface ValidationErrorItem {
  message: string;
  path: string[];
  type: string;
  context: {
    label: string;
    key: string | undefined;
    value?: unknown;
    /** With `any.only`: the allowed values. */
    valids?: unknown[];
    /** With `alternatives.types`: the allowed types. */
    types?: string[];
  };
}

/**
 * The error ms-token's Joi validation throws: `name` is `ValidationError`,
 * `isJoi` is true, `details` lists the problem.
 *
 * @example
 * ```ts
 * try { await manager.create({ action: 'a' }); }
 * catch (err) { err.name === 'ValidationError'; err.message === '"id" is required'; }
 * ```
 */
export class ValidationError extends Error {
  /** Always true (Joi's marker). */
  readonly isJoi = true;
  /** The problem, as a Joi detail. */
  readonly details: ValidationErrorItem[];

  /**
   * @param message - the Joi-style message
   * @param path - path of the offending value
   * @param type - Joi error type, e.g. `any.required`
   * @param extra - more context (`valids` of `any.only`, `types` of `alternatives.types`)
   */
  constructor(
    message: string,
    path: string[] = [],
    type = 'any.invalid',
    extra: { valids?: unknown[]; types?: string[] } = {},
  ) {
    super(message);
    this.name = 'ValidationError';
    const label = path.length === 0 ? 'value' : path.join('.');
    this.details = [
      { message, path, type, context: { label, key: path[path.length - 1], ...extra } },
    ];
  }
}

/** Throw a ValidationError for `path` with Joi's quoting: `"<path>" <text>`. */
export function invalid(
  path: string[],
  text: string,
  type = 'any.invalid',
  extra?: { valids?: unknown[]; types?: string[] },
): never {
  const label = path.length === 0 ? 'value' : path.join('.');
  throw new ValidationError(`"${label}" ${text}`, path, type, extra);
}

/** Joi's `any.only`: `must be [a]` or `must be one of [a, b]`. */
export function notOneOf(path: string[], valids: unknown[]): never {
  const list = `[${valids.map(String).join(', ')}]`;
  return invalid(
    path,
    valids.length === 1 ? `must be ${list}` : `must be one of ${list}`,
    'any.only',
    {
      valids,
    },
  );
}

/** A plain object (not null, not an array): what Joi's `object()` accepts. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Require an object at `path`. */
export function requireObject(v: unknown, path: string[]): Record<string, unknown> {
  if (v === undefined) invalid(path, 'is required', 'any.required');
  if (!isObject(v)) invalid(path, 'must be of type object', 'object.base');
  return v;
}

/** A required (or optional) non-empty string. */
export function checkString(v: unknown, path: string[], required: boolean): string | undefined {
  if (v === undefined) {
    if (required) invalid(path, 'is required', 'any.required');
    return undefined;
  }
  if (typeof v !== 'string') invalid(path, 'must be a string', 'string.base');
  if (v.length === 0) invalid(path, 'is not allowed to be empty', 'string.empty');
  return v;
}

/** A value as Joi's `boolean()` converts it: `'true'` and `'false'` in any case. */
export function toBoolean(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const lower = v.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : v;
}

/** An optional boolean (Joi's `boolean()`, which converts `'true'` and `'false'`). */
export function checkBoolean(v: unknown, path: string[]): boolean | undefined {
  if (v === undefined) return undefined;
  const b = toBoolean(v);
  if (typeof b !== 'boolean') invalid(path, 'must be a boolean', 'boolean.base');
  return b;
}

/** The strings Joi's `number()` converts. */
const NUMBER_RE = /^\s*[+-]?(?:(?:\d+(?:\.\d*)?)|(?:\.\d+))(?:e([+-]?\d+))?\s*$/i;

/** Joi's normalization of a decimal string, to tell whether parsing it lost digits. */
function normalizeDecimal(text: string): string {
  let s = text
    .replace(/^\+/, '')
    .replace(/\.0*$/, '')
    .replace(/^(-?)\.([^.]*)$/, '$10.$2')
    .replace(/^(-?)0+([0-9])/, '$1$2');
  if (s.includes('.') && s.endsWith('0')) s = s.replace(/0+$/, '');
  return s === '-0' ? '0' : s;
}

/**
 * A number as Joi's `number()` takes it: numbers, and numeric strings
 * (`'10'`, `' 1e3 '`); `must be a number`, `cannot be infinity` and
 * `must be a safe number` as Joi says them.
 */
export function checkNumber(v: unknown, path: string[]): number {
  let n = v;
  if (typeof v === 'string') {
    const m = NUMBER_RE.exec(v);
    if (m === null) invalid(path, 'must be a number', 'number.base');
    const text = v.trim();
    n = Number.parseFloat(text);
    const unsafe =
      m[1] !== undefined
        ? !Number.isFinite(n as number)
        : !/e/i.test(String(n)) && String(n) !== normalizeDecimal(text);
    if (unsafe) invalid(path, 'must be a safe number', 'number.unsafe');
  }
  if (n === Number.POSITIVE_INFINITY || n === Number.NEGATIVE_INFINITY) {
    invalid(path, 'cannot be infinity', 'number.infinity');
  }
  if (typeof n !== 'number' || Number.isNaN(n)) invalid(path, 'must be a number', 'number.base');
  if (n > Number.MAX_SAFE_INTEGER || n < Number.MIN_SAFE_INTEGER) {
    invalid(path, 'must be a safe number', 'number.unsafe');
  }
  return n === 0 ? 0 : n;
}

/** An integer >= `min` (Joi's `number().integer().min(min)`). */
export function checkInteger(v: unknown, path: string[], min: number): number {
  const n = checkNumber(v, path);
  if (!Number.isSafeInteger(n)) invalid(path, 'must be an integer', 'number.integer');
  if (n < min) invalid(path, `must be greater than or equal to ${min}`, 'number.min');
  return n;
}

/** Reject keys not in `allowed`. */
export function rejectUnknown(o: Record<string, unknown>, allowed: string[], base: string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) invalid([...base, key], 'is not allowed', 'object.unknown');
  }
}

/** Which of `keys` are present (not undefined) on `o`. */
export function present(o: Record<string, unknown>, keys: string[]): string[] {
  return keys.filter((k) => o[k] !== undefined);
}

/**
 * Joi's `alternatives().try(...)` at `path`: the first branch that accepts the
 * value wins. When none does, Joi reports, in this order: the only error that
 * is not about the value's type (or that lies deeper in it); `must be one of
 * [types and allowed values]` when every error is about the type; else
 * `does not match any of the allowed types`.
 *
 * @param path - where the value is
 * @param branches - validators that return the value or throw a ValidationError
 * @example `alternatives(['throttle'], [() => asNumber(v), () => asTrue(v)])`
 */
export function alternatives<T>(path: string[], branches: ReadonlyArray<() => T>): T {
  const types = new Set<string>();
  const complex: ValidationError[] = [];
  for (const branch of branches) {
    try {
      return branch();
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const d = err.details[0] as ValidationErrorItem;
      const [type, code] = d.type.split('.');
      if (d.path.length !== path.length) complex.push(err);
      else if (d.type === 'any.only') for (const v of d.context.valids ?? []) types.add(String(v));
      else if (code === 'base') types.add(type as string);
      else complex.push(err);
    }
  }
  if (complex.length === 0) {
    return invalid(path, `must be one of [${[...types].join(', ')}]`, 'alternatives.types', {
      types: [...types],
    });
  }
  if (complex.length === 1) throw complex[0];
  return invalid(path, 'does not match any of the allowed types', 'alternatives.match');
}

/**
 * Metadata as ms-token stores it: JSON round trip (`JSON.stringify`, then
 * parse), and `{}` for a falsy value. A value `JSON.stringify` refuses
 * (a cycle, a BigInt) throws its TypeError, as in ms-token.
 */
export function normalizeMetadata(v: unknown): Json {
  if (!v) return {};
  const text = JSON.stringify(v);
  if (text === undefined) return {};
  return JSON.parse(text) as Json;
}
