/**
 * Deep freezing of record values. A deeply frozen value can never change
 * again, so a store may keep it without a copy, and a check passed once holds
 * for good.
 * @module
 */

/**
 * Whether `value` and every object inside it are frozen (primitives are).
 * @example `isDeepFrozen(Object.freeze({ a: Object.freeze([1]) })) // true`
 */
export function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  for (const k in value) {
    if (!isDeepFrozen((value as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * Freeze `value` and every object inside it, in place. An object already
 * frozen is taken as deeply frozen and not walked: callers only pass values
 * whose frozen parts came from an earlier `deepFreeze` or passed
 * {@link isDeepFrozen}.
 * @returns `value`
 * @example `const data = deepFreeze(structuredClone(input));`
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const k in value) {
      const v = (value as Record<string, unknown>)[k];
      if (typeof v === 'object' && v !== null) deepFreeze(v);
    }
  }
  return value;
}
