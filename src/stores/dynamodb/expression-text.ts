/**
 * The text of DynamoDB expressions: placeholders for names and values
 * ({@link Expr}), and AND chains that stay flat ({@link and}). Conditions
 * hold only placeholders, keywords and function names, never user text.
 * @module
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Item } from './attribute-values.js';

/** Placeholders for one request's expressions. */
export class Expr {
  readonly #names = new Map<string, string>();
  readonly #values: Record<string, AttributeValue> = {};
  readonly #scalars = new Map<string, string>();
  #valueCount = 0;

  /** Placeholder (`#n0`) for an attribute or map key name. */
  name(attr: string): string {
    let p = this.#names.get(attr);
    if (p === undefined) {
      p = `#n${this.#names.size}`;
      this.#names.set(attr, p);
    }
    return p;
  }

  /**
   * Placeholder (`:v0`) for a value. A string or number scalar given twice
   * gets the same placeholder (fewer values to send and for DynamoDB to parse).
   */
  value(av: AttributeValue): string {
    const key = av.S !== undefined ? `S${av.S}` : av.N !== undefined ? `N${av.N}` : undefined;
    if (key !== undefined) {
      const known = this.#scalars.get(key);
      if (known !== undefined) return known;
    }
    const p = `:v${this.#valueCount++}`;
    this.#values[p] = av;
    if (key !== undefined) this.#scalars.set(key, p);
    return p;
  }

  /** A document path of attribute names: `path('d', 'n')` → `#n0.#n1`. */
  path(...parts: string[]): string {
    return parts.map((p) => this.name(p)).join('.');
  }

  /** The request parameters (only the maps that are not empty). */
  params(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
  } {
    const out: {
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues?: Item;
    } = {};
    if (this.#names.size > 0) {
      out.ExpressionAttributeNames = Object.fromEntries(
        [...this.#names].map(([attr, p]) => [p, attr]),
      );
    }
    if (this.#valueCount > 0) out.ExpressionAttributeValues = { ...this.#values };
    return out;
  }
}

/**
 * The operands of a condition's top-level `AND` chain (the condition itself
 * when it has a top-level `OR` or a `BETWEEN`), and whether it has a top-level
 * `OR`. Conditions hold only placeholders, keywords and function names, never
 * user text, so a scan is exact.
 */
function conjuncts(condition: string): { parts: string[]; or: boolean } {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < condition.length; i++) {
    const c = condition.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) depth--;
    else if (depth === 0 && c === 32) {
      if (condition.startsWith(' OR ', i)) return { parts: [condition], or: true };
      if (condition.startsWith(' AND ', i)) {
        parts.push(condition.slice(from, i));
        from = i + 5;
      }
    }
  }
  if (parts.length === 0 || condition.includes('BETWEEN')) return { parts: [condition], or: false };
  parts.push(condition.slice(from));
  return { parts, or: false };
}

/**
 * AND of parts (empty and repeated operands skipped); `undefined` when nothing
 * is left. The result is one flat chain: nested ANDs are spliced in, and only
 * operands with a top-level `OR` are parenthesized (AND binds tighter). So
 * DynamoDB evaluates the same condition with the fewest parentheses, and a
 * backtracking expression parser (dynalite's, whose time grows with every
 * nesting level) stays fast.
 */
export function and(parts: ReadonlyArray<string | undefined>): string | undefined {
  // operand → whether it has a top-level OR
  const kept = new Map<string, boolean>();
  for (const p of parts) {
    if (p === undefined || p.length === 0) continue;
    const c = conjuncts(p);
    for (const q of c.parts) kept.set(q, c.or);
  }
  if (kept.size === 0) return undefined;
  if (kept.size === 1) return [...kept.keys()][0];
  return [...kept].map(([q, or]) => (or ? `(${q})` : q)).join(' AND ');
}
