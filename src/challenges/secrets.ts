/**
 * Secret generation for challenges: every secret comes from the CSPRNG
 * (`crypto.randomUUID` / `crypto.randomInt` through `core/random`).
 * @module
 */
import { randomAlphabetCode, randomNumericCode, randomUUID } from '../core/random.js';
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
