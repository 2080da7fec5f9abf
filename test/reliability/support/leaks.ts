/**
 * The leak scan: every secret, code, token and credential a run issued is
 * looked for, in plaintext and in the encodings a careless implementation
 * might store (hex, base64, base64url of its bytes), in store dumps and logs.
 */

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
