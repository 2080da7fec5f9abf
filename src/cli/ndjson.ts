/**
 * The export format: newline-delimited JSON. The first line is a header, then
 * one line per record, then an end line with the count, so a truncated file
 * is detected on import.
 *
 * ```
 * {"format":"tessera-export","version":1,"store":"sqlite","exportedAt":1767225600000,"collections":["pat"]}
 * {"collection":"pat","key":"…","partition":"…","data":{…},"expiresAt":null,"index":{"owner":"…"}}
 * {"end":true,"records":1}
 * ```
 *
 * Records hold what the store holds: hashes, never plaintext secrets. Keyed
 * hashes (HMAC) verify only under the same server secret, so move
 * `TESSERA_SECRET` (or the data directory's `server-secret`) with them.
 * @module
 */
import type { RecordInput } from '../stores/contract.js';

/** Name in the header line. */
export const EXPORT_FORMAT = 'tessera-export';
/** Version of the format. */
export const EXPORT_VERSION = 1;

/** The header line. */
export interface ExportHeader {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: number;
  readonly store: string;
  readonly exportedAt: number;
  readonly collections: readonly string[];
}

/** Collections exported by default: every domain module's, not rate-limit windows. */
export const DEFAULT_EXPORT_COLLECTIONS = [
  'action',
  'pat',
  'challenge',
  'sessions',
  'session_tokens',
  'service',
] as const;

const COLLECTION_RE = /^[a-z][a-z0-9_-]{0,31}$/;

/** Parse one record line; throws with the line number for anything malformed. */
export function parseRecordLine(line: string, lineNo: number): RecordInput | { end: number } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`line ${lineNo}: not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Error(`line ${lineNo}: not a JSON object`);
  }
  const o = v as Record<string, unknown>;
  if (o.end === true) {
    if (typeof o.records !== 'number') throw new Error(`line ${lineNo}: bad end line`);
    return { end: o.records };
  }
  if (typeof o.collection !== 'string' || !COLLECTION_RE.test(o.collection)) {
    throw new Error(`line ${lineNo}: bad collection`);
  }
  if (typeof o.key !== 'string' || o.key.length === 0) throw new Error(`line ${lineNo}: bad key`);
  if (o.partition !== undefined && typeof o.partition !== 'string') {
    throw new Error(`line ${lineNo}: bad partition`);
  }
  if (typeof o.data !== 'object' || o.data === null || Array.isArray(o.data)) {
    throw new Error(`line ${lineNo}: bad data`);
  }
  if (o.expiresAt !== null && typeof o.expiresAt !== 'number') {
    throw new Error(`line ${lineNo}: bad expiresAt`);
  }
  if (o.index !== undefined && (typeof o.index !== 'object' || o.index === null)) {
    throw new Error(`line ${lineNo}: bad index`);
  }
  return {
    collection: o.collection,
    key: o.key,
    ...(typeof o.partition === 'string' ? { partition: o.partition } : {}),
    data: o.data as RecordInput['data'],
    expiresAt: o.expiresAt as number | null,
    ...(o.index ? { index: o.index as Record<string, string> } : {}),
  };
}
