/**
 * Secret generation for challenges: every secret comes from the CSPRNG
 * (`crypto.randomUUID` / `crypto.randomInt` through `core/random`).
 * @module
 */
import { randomAlphabetCode, randomBytes, randomNumericCode, randomUUID } from '../core/random.js';
import type { ResolvedSecretSettings } from './types.js';

/**
 * A new secret for `settings`.
 *
 * @param settings - resolved secret settings
 * @returns a UUID v4, `length` digits, or `length` characters of the alphabet
 * @example `generateSecret({ type: 'number', length: 6, encrypt: false }) // '042817'`
 */
export function generateSecret(settings: ResolvedSecretSettings): string {
  switch (settings.type) {
    case 'uuid':
      return randomUUID();
    case 'number':
      return randomNumericCode(settings.length);
    default:
      return randomAlphabetCode(settings.alphabet, settings.length);
  }
}

/** Random bytes drawn at once for instance ids (one CSPRNG call per 85 ids). */
const POOL_BYTES = 1020;
const INSTANCE_BYTES = 12;
let pool: Buffer = Buffer.alloc(0);
let offset = 0;

/**
 * A new challenge instance id: 96 bits from the CSPRNG, as 16 base64url
 * characters. Instance ids are not secret (they tell one `create` of an
 * (action, id) from the next), so they come from a pooled buffer of random
 * bytes, one CSPRNG call per 85 ids.
 *
 * @returns a fresh id
 * @example `randomInstance() // 'q3Xb0h8u5n1T2Qz9'`
 */
export function randomInstance(): string {
  if (offset + INSTANCE_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + INSTANCE_BYTES);
  offset += INSTANCE_BYTES;
  return id;
}
