/**
 * Request validation with the seed's error details. `@access-tokens/express`
 * validates with zod v4 and reports `prettifyError(err)`, e.g.
 * `✖ Invalid input: expected string, received array\n  → at limit`; the
 * checks here produce the same text for the same mistakes, without zod.
 * @module
 */

/** One problem: where and what. */
export interface Issue {
  /** Where: field names and array indexes from the root (empty: the value itself). */
  readonly path: readonly (string | number)[];
  /** What, in zod v4's words. */
  readonly message: string;
}

/**
 * What `typeof` says in zod's words.
 * @param v - any value
 * @example `received([]) // 'array'`
 */
export function received(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  return typeof v;
}

/**
 * `expected <type>, received <type>`, the zod v4 message.
 * @param path - where the value is
 * @param expected - the expected type's name
 * @param v - the value found
 * @example `typeIssue(['limit'], 'string', ['1', '2']).message // 'Invalid input: expected string, received array'`
 */
export function typeIssue(path: readonly (string | number)[], expected: string, v: unknown): Issue {
  return { path, message: `Invalid input: expected ${expected}, received ${received(v)}` };
}

function pathText(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

/**
 * zod v4's `prettifyError` text for a list of issues (shorter paths first).
 * @param issues - the issues
 * @example `prettify([typeIssue(['limit'], 'string', [])]) // '✖ Invalid input: expected string, received array\n  → at limit'`
 */
export function prettify(issues: readonly Issue[]): string {
  const sorted = [...issues].sort((a, b) => a.path.length - b.path.length);
  const lines: string[] = [];
  for (const issue of sorted) {
    lines.push(`✖ ${issue.message}`);
    if (issue.path.length > 0) lines.push(`  → at ${pathText(issue.path)}`);
  }
  return lines.join('\n');
}

/** Field rule of {@link checkObject}. */
export type FieldRule = (value: unknown, path: (string | number)[], issues: Issue[]) => void;

/**
 * Whether `v` is an object (not an array, not null).
 * @param v - any value
 * @example `isObject([]) // false`
 */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Check an object against field rules. Rules see `undefined` for missing
 * fields. With `strict`, unknown keys are reported as zod does
 * (`Unrecognized key: "x"`).
 * @param value - the value to check
 * @param rules - a rule per field
 * @param strict - report keys without a rule
 * @param path - where `value` is (default: the root)
 * @returns the issues (empty: valid)
 * @example `checkObject({ owner: 1 }, { owner: str() }, true) // [{ path: ['owner'], message: 'Invalid input: expected string, received number' }]`
 */
export function checkObject(
  value: unknown,
  rules: Readonly<Record<string, FieldRule>>,
  strict: boolean,
  path: (string | number)[] = [],
): Issue[] {
  const issues: Issue[] = [];
  if (!isObject(value)) return [typeIssue(path, 'object', value)];
  for (const [name, rule] of Object.entries(rules)) {
    rule(Object.hasOwn(value, name) ? value[name] : undefined, [...path, name], issues);
  }
  if (strict) {
    const extra = Object.keys(value).filter((k) => !Object.hasOwn(rules, k));
    if (extra.length > 0) {
      const names = extra.map((k) => JSON.stringify(k)).join(', ');
      issues.push({
        path,
        message: extra.length === 1 ? `Unrecognized key: ${names}` : `Unrecognized keys: ${names}`,
      });
    }
  }
  return issues;
}

/**
 * A string, optionally with a length range.
 * @param options - `optional` (may be absent), `min` and `max` length in characters
 * @example `str({ min: 1, max: 100 })`
 */
export function str(options: { optional?: boolean; min?: number; max?: number } = {}): FieldRule {
  return (v, path, issues) => {
    if (v === undefined && options.optional) return;
    if (typeof v !== 'string') {
      issues.push(typeIssue(path, 'string', v));
      return;
    }
    if (options.min !== undefined && v.length < options.min) {
      issues.push({
        path,
        message: `Too small: expected string to have >=${options.min} characters`,
      });
    }
    if (options.max !== undefined && v.length > options.max) {
      issues.push({
        path,
        message: `Too big: expected string to have <=${options.max} characters`,
      });
    }
  };
}

/**
 * A boolean.
 * @param options - `optional` (may be absent)
 * @example `bool({ optional: true })`
 */
export function bool(options: { optional?: boolean } = {}): FieldRule {
  return (v, path, issues) => {
    if (v === undefined && options.optional) return;
    if (typeof v !== 'boolean') issues.push(typeIssue(path, 'boolean', v));
  };
}

/**
 * A finite number (or null with `nullable`).
 * @param options - `optional` (may be absent), `nullable` (may be null)
 * @example `num({ optional: true, nullable: true })`
 */
export function num(options: { optional?: boolean; nullable?: boolean } = {}): FieldRule {
  return (v, path, issues) => {
    if (v === undefined && options.optional) return;
    if (v === null && options.nullable) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      issues.push(typeIssue(path, 'number', v));
    }
  };
}

/**
 * An array of items checked by `item`, at most `max` long.
 * @param item - the rule of each item
 * @param options - `optional` (may be absent), `max` items
 * @example `arr(str({ min: 1 }), { max: 50 })`
 */
export function arr(
  item: FieldRule,
  options: { optional?: boolean; max?: number } = {},
): FieldRule {
  return (v, path, issues) => {
    if (v === undefined && options.optional) return;
    if (!Array.isArray(v)) {
      issues.push(typeIssue(path, 'array', v));
      return;
    }
    if (options.max !== undefined && v.length > options.max) {
      issues.push({ path, message: `Too big: expected array to have <=${options.max} items` });
    }
    v.forEach((x, i) => {
      item(x, [...path, i], issues);
    });
  };
}

/**
 * The first alternative that fits, else zod's union message.
 * @param alternatives - the rules tried in order
 * @param optional - may be absent (default false)
 * @example `oneOf([arr(str()), obj({ add: arr(str()) })], true)`
 */
export function oneOf(alternatives: readonly FieldRule[], optional = false): FieldRule {
  return (v, path, issues) => {
    if (v === undefined && optional) return;
    for (const alt of alternatives) {
      const mine: Issue[] = [];
      alt(v, path, mine);
      if (mine.length === 0) return;
    }
    issues.push({ path, message: 'Invalid input' });
  };
}

/**
 * A strict nested object (unknown keys are issues).
 * @param rules - a rule per field
 * @example `obj({ add: arr(str()) })`
 */
export function obj(rules: Readonly<Record<string, FieldRule>>): FieldRule {
  return (v, path, issues) => {
    issues.push(...checkObject(v, rules, true, path));
  };
}
