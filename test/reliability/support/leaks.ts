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

/** Look for every secret (each of its forms) in every text. */
export function scanForLeaks(
  secrets: SecretLog,
  texts: ReadonlyArray<{ where: string; text: string }>,
): { checked: number; forms: number; hits: LeakHit[] } {
  const hits: LeakHit[] = [];
  let forms = 0;
  for (const { what, value } of secrets.items) {
    for (const form of encodingsOf(value)) {
      forms++;
      // Short all-digit codes: only as a whole number, never inside a longer one (timestamps).
      const re = /^\d+$/.test(form)
        ? new RegExp(`(?<![0-9])${form}(?![0-9])`)
        : new RegExp(form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      for (const { where, text } of texts) {
        if (re.test(text)) hits.push({ what, form: form.slice(0, 12), where });
      }
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
