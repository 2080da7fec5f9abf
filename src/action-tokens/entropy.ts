/**
 * A conservative estimate of the entropy of a value a caller supplies for
 * owner-less use, from its length and the variety of its characters. It
 * cannot know how a value was made, so it only rejects what surely falls
 * short: short values, digits only (3.3 bits each), hex (4 bits each), one
 * letter case, and repetitive values (few distinct characters).
 * @module
 */

/** Entropy owner-less use requires, bits. */
export const MIN_LOOKUP_BITS = 112;

const log2 = Math.log2;

/**
 * Estimate the entropy of `value` in bits: its length times the bits one
 * character can carry, that is, the size of the alphabet its character
 * classes suggest (10 digits, 16 hex digits, 26 per letter case, 33 ASCII
 * symbols, 64 more for anything else), and at most what the number of
 * distinct characters it holds supports (log2 of it, plus 1.5 from 4 on).
 * @param value - the supplied value
 * @returns the estimate, rounded down
 * @example `estimateEntropyBits('1234567890123456789012') // 73`
 */
export function estimateEntropyBits(value: string): number {
  const chars = [...value];
  if (chars.length === 0) return 0;
  let digit = false;
  let lower = false;
  let upper = false;
  let hexLetters = true;
  let symbol = false;
  let other = false;
  for (const c of chars) {
    if (c >= '0' && c <= '9') digit = true;
    else if (c >= 'a' && c <= 'z') {
      lower = true;
      if (c > 'f') hexLetters = false;
    } else if (c >= 'A' && c <= 'Z') {
      upper = true;
      if (c > 'F') hexLetters = false;
    } else if (c >= '!' && c <= '~') symbol = true;
    else other = true;
  }
  let alphabet: number;
  if (!symbol && !other && !(lower && upper) && hexLetters && digit) {
    alphabet = lower || upper ? 16 : 10;
  } else {
    alphabet =
      (digit ? 10 : 0) + (lower ? 26 : 0) + (upper ? 26 : 0) + (symbol ? 33 : 0) + (other ? 64 : 0);
  }
  const distinct = new Set(chars).size;
  const perChar = Math.min(log2(alphabet), distinct < 4 ? log2(distinct) : log2(distinct) + 1.5);
  return Math.floor(chars.length * perChar);
}
