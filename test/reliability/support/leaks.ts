/**
 * The leak scan: every secret, code, token and credential a run issued is
 * looked for, in plaintext and in the encodings a careless implementation
 * might store (hex, base64, base64url of its bytes), in store dumps and logs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { recordFigures } from './figures.js';

/** Secrets issued during a run, by where they came from. */
export class SecretLog {
  readonly items: Array<{ what: string; value: string }> = [];
  add(what: string, value: unknown): void {
    if (typeof value === 'string' && value.length >= 6) this.items.push({ what, value });
  }
  /** Record every string field that carries a secret in an API answer body. */
  addFrom(what: string, body: unknown): void {
    if (body === null || typeof body !== 'object') return;
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (/^(value|token|secret|access_token|refresh_token|code|credential|plaintext)$/i.test(k))
        this.add(`${what}.${k}`, v);
      else if (v !== null && typeof v === 'object') this.addFrom(`${what}.${k}`, v);
    }
  }
}

/** The forms of one secret to look for. */
export function encodingsOf(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const utf8 = Buffer.from(secret, 'utf8');
  forms.add(utf8.toString('hex'));
  forms.add(utf8.toString('base64').replace(/=+$/, ''));
  forms.add(utf8.toString('base64url'));
  if (/^[A-Za-z0-9_-]{16,}$/.test(secret)) {
    // The raw bytes behind a base64url secret, as hex and base64.
    const raw = Buffer.from(secret, 'base64url');
    if (raw.length >= 12) {
      forms.add(raw.toString('hex'));
      forms.add(raw.toString('base64').replace(/=+$/, ''));
    }
  }
  // The secret part of a PAT or a prefixed token (after the last `_` or `.`).
  const tail = /[._]([A-Za-z0-9-]{20,})$/.exec(secret)?.[1];
  if (tail !== undefined) forms.add(tail);
  return [...forms];
}

/** A hit of the scan. */
export interface LeakHit {
  what: string;
  form: string;
  where: string;
}

/** Characters of the window every form is indexed by (every form is at least this long). */
const ANCHOR = 6;
const HASH_BASE = 0x01000193;

/** A hash of `text[at .. at + ANCHOR)`, the same for equal windows. */
function windowHash(text: string, at: number): number {
  let h = 0;
  for (let i = at; i < at + ANCHOR; i++) h = (Math.imul(h, HASH_BASE) + text.charCodeAt(i)) | 0;
  return h;
}

/** The weight of the first character of a window, to roll it out. */
const FIRST_WEIGHT = (() => {
  let w = 1;
  for (let i = 1; i < ANCHOR; i++) w = Math.imul(w, HASH_BASE);
  return w;
})();

/** Bounds of the window-hash filter's size, in bits (powers of two). */
const MIN_FILTER_BITS = 1 << 12;
const MAX_FILTER_BITS = 1 << 22;

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Look for every secret (each of its forms) in every text. All forms are
 * indexed by a hash of their first characters and each text is read once
 * with a rolling hash, so the cost grows with the bytes scanned, not with
 * bytes times forms. An all-digit form (a short code) counts only as a whole
 * number, never inside a longer one (timestamps).
 */
export function scanForLeaks(
  secrets: SecretLog,
  texts: ReadonlyArray<{ where: string; text: string }>,
): { checked: number; forms: number; hits: LeakHit[] } {
  const byAnchor = new Map<number, Array<{ what: string; form: string; digits: boolean }>>();
  let forms = 0;
  for (const { what, value } of secrets.items) {
    for (const form of encodingsOf(value)) {
      forms++;
      if (form.length < ANCHOR) throw new Error(`leak scan: form shorter than ${ANCHOR}`);
      const h = windowHash(form, 0);
      const list = byAnchor.get(h) ?? [];
      list.push({ what, form, digits: /^\d+$/.test(form) });
      byAnchor.set(h, list);
    }
  }
  // A bit per hash bucket (about 64 buckets per form, so few windows share one with a
  // form), so most windows are dismissed without a map lookup.
  let bits = MIN_FILTER_BITS;
  while (bits < byAnchor.size * 64 && bits < MAX_FILTER_BITS) bits *= 2;
  const mask = bits - 1;
  const filter = new Uint8Array(bits >>> 3);
  for (const h of byAnchor.keys()) filter[(h & mask) >>> 3]! |= 1 << (h & 7);
  const hits: LeakHit[] = [];
  const seen = new Set<string>();
  for (const { where, text } of texts) {
    if (text.length < ANCHOR) continue;
    let h = windowHash(text, 0);
    for (let i = 0; ; i++) {
      const candidates =
        (filter[(h & mask) >>> 3]! & (1 << (h & 7))) === 0 ? undefined : byAnchor.get(h);
      if (candidates !== undefined) {
        for (const c of candidates) {
          if (!text.startsWith(c.form, i)) continue;
          if (
            c.digits &&
            (isDigit(text.charCodeAt(i - 1)) || isDigit(text.charCodeAt(i + c.form.length)))
          )
            continue;
          const id = `${where}\u0000${c.what}\u0000${c.form}`;
          if (seen.has(id)) continue;
          seen.add(id);
          hits.push({ what: c.what, form: c.form.slice(0, 12), where });
        }
      }
      if (i + ANCHOR >= text.length) break;
      h =
        (Math.imul(h - Math.imul(text.charCodeAt(i), FIRST_WEIGHT), HASH_BASE) +
          text.charCodeAt(i + ANCHOR)) |
        0;
    }
  }
  return { checked: secrets.items.length, forms, hits };
}

/** One place the scan reads: a store dump, a log, a file. */
export interface LeakPlace {
  where: string;
  text: string;
}

/** Every file under `dir` (recursively), read as latin1 (binary files too), one place each. */
export function filesUnder(dir: string, label: string): LeakPlace[] {
  if (!existsSync(dir)) return [];
  const places: LeakPlace[] = [];
  for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const file = join(dir, rel);
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) continue;
    places.push({ where: `${label}/${rel}`, text: readFileSync(file, 'latin1') });
  }
  return places;
}

/** The figures of one leak scan (recorded under `leaks` in the test file's figures). */
export interface LeakFigures {
  file: string;
  backend: string;
  secrets: number;
  forms: number;
  places: number;
  placeNames: string[];
  bytes: number;
  hits: number;
  hitDetails: LeakHit[];
  /** Time the scan took, ms. */
  scanMs: number;
}

/**
 * Scan `places` for every secret of `secrets`, after a control that the scan
 * finds what it looks for; record the counts as the `leaks` figure of
 * `figures` (a figures file name) and return them (the caller asserts zero hits).
 */
export function scanAndRecord(
  figures: string,
  meta: { file: string; backend: string },
  secrets: SecretLog,
  places: readonly LeakPlace[],
): LeakFigures {
  const first = secrets.items[0];
  if (first === undefined) throw new Error('leak scan: no secret recorded');
  const control = scanForLeaks(secrets, [
    { where: 'control', text: `x${Buffer.from(first.value).toString('hex')}x` },
  ]);
  if (control.hits.length === 0) throw new Error('leak scan: the control was not found');
  const t0 = performance.now();
  const result = scanForLeaks(secrets, places);
  const leaks: LeakFigures = {
    ...meta,
    secrets: result.checked,
    forms: result.forms,
    places: places.length,
    placeNames: places.map((p) => p.where),
    bytes: places.reduce((n, p) => n + p.text.length, 0),
    hits: result.hits.length,
    hitDetails: result.hits,
    scanMs: Math.round(performance.now() - t0),
  };
  recordFigures(figures, { leaks });
  return leaks;
}
