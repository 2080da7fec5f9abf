/**
 * JSON ⇄ DynamoDB AttributeValue, written by hand (no `@aws-sdk/util-dynamodb`
 * needed), and the rule for when a JSON value can be stored as a native
 * DynamoDB value at all.
 *
 * Not every JSON value has a native form: DynamoDB numbers range over
 * 1e-130..1e126 in magnitude, nesting stops at 32 levels, and strings must be
 * valid UTF-16 (a lone surrogate cannot cross the wire). A record whose data
 * holds such a value is stored as one JSON string (`dj`) instead of a Map
 * (`d`); the store then takes its exact read-modify-write path for it.
 * @module
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { StoreError } from '../../core/errors.js';
import type { Json, JsonObject } from '../contract.js';

/** A DynamoDB item: attribute name → value. */
export type Item = Record<string, AttributeValue>;

/** Deepest JSON nesting (data object = 0) stored natively; DynamoDB allows 32 levels. */
export const MAX_NATIVE_DEPTH = 30;

const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a number fits a DynamoDB `N` (38 digits, magnitude 1e-130..<1e126, or zero). */
export function isNativeNumber(n: number): boolean {
  if (!Number.isFinite(n)) return false;
  const a = Math.abs(n);
  return a === 0 || (a >= 1e-130 && a < 1e126);
}

/**
 * Whether a JSON value can be stored natively, `depth` being its nesting
 * below the data object (a top-level field's value is at depth 1).
 */
export function isNativeJson(value: Json | undefined, depth = 1): boolean {
  if (depth > MAX_NATIVE_DEPTH) return false;
  if (value === null || typeof value === 'boolean') return true;
  if (typeof value === 'number') return isNativeNumber(value);
  if (typeof value === 'string') return !LONE_SURROGATE_RE.test(value);
  if (Array.isArray(value)) return value.every((v) => isNativeJson(v, depth + 1));
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.length === 0 || LONE_SURROGATE_RE.test(k)) return false;
      if (!isNativeJson(v, depth + 1)) return false;
    }
    return true;
  }
  return false;
}

/** Whether a whole data object can be stored as a native Map. */
export function isNativeData(data: JsonObject): boolean {
  for (const v of Object.values(data)) if (!isNativeJson(v, 1)) return false;
  return true;
}

/** Convert a JSON value (checked with {@link isNativeJson}) to an AttributeValue. */
export function toAttr(value: Json): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'boolean') return { BOOL: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'string') return { S: value };
  if (Array.isArray(value)) return { L: value.map(toAttr) };
  const m: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(value)) m[k] = toAttr(v);
  return { M: m };
}

/** Convert a JSON object to a Map attribute value. */
export function toMapAttr(data: JsonObject): AttributeValue {
  return toAttr(data);
}

/**
 * Convert an AttributeValue back to JSON. Sets become arrays (string sets
 * sorted); binary values are refused.
 * @throws StoreError for a type JSON cannot hold
 */
export function fromAttr(av: AttributeValue): Json {
  if (av.NULL !== undefined) return null;
  if (av.BOOL !== undefined) return av.BOOL;
  if (av.S !== undefined) return av.S;
  if (av.N !== undefined) return Number(av.N);
  if (av.L !== undefined) return av.L.map(fromAttr);
  if (av.M !== undefined) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(av.M)) out[k] = fromAttr(v);
    return out;
  }
  if (av.SS !== undefined) return [...av.SS].sort();
  if (av.NS !== undefined) return av.NS.map(Number);
  throw new StoreError(`DynamoDB attribute of type ${Object.keys(av)[0]} has no JSON form`);
}

/** Type name of an AttributeValue (`S`, `N`, `M`...). */
export function attrType(av: AttributeValue | undefined): string | undefined {
  if (av === undefined) return undefined;
  for (const [k, v] of Object.entries(av)) if (v !== undefined && k !== '$unknown') return k;
  return undefined;
}

/** Size in bytes of a string's UTF-8 form. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
