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
  context: { label: string; key: string | undefined; value?: unknown };
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
   */
  constructor(message: string, path: string[] = [], type = 'any.invalid') {
    super(message);
    this.name = 'ValidationError';
    const label = path.length === 0 ? 'value' : path.join('.');
    this.details = [{ message, path, type, context: { label, key: path[path.length - 1] } }];
  }
}

/** Throw a ValidationError for `path` with Joi's quoting: `"<path>" <text>`. */
export function invalid(path: string[], text: string, type = 'any.invalid'): never {
  const label = path.length === 0 ? 'value' : path.join('.');
  throw new ValidationError(`"${label}" ${text}`, path, type);
}

/** A plain object (not null, not an array). */
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

/** An optional boolean. */
export function checkBoolean(v: unknown, path: string[]): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') invalid(path, 'must be a boolean', 'boolean.base');
  return v;
}

/** A number as Joi's `number()` converts it (numeric strings included). */
function toNumber(v: unknown, path: string[]): number {
  const n = typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n)) invalid(path, 'must be a number', 'number.base');
  if (!Number.isFinite(n)) invalid(path, 'must be a number', 'number.infinity');
  return n;
}

/** An integer >= `min`. */
export function checkInteger(v: unknown, path: string[], min: number): number {
  const n = toNumber(v, path);
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
 * Metadata as ms-token stores it: JSON round trip (`JSON.stringify`, then
 * parse), and `{}` for a falsy value.
 */
export function normalizeMetadata(v: unknown): Json {
  if (!v) return {};
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    invalid(['metadata'], 'must be serializable to JSON', 'any.custom');
  }
  if (text === undefined) return {};
  return JSON.parse(text) as Json;
}
