/**
 * Token values: the default CSPRNG maker, and the check every made or
 * supplied token passes.
 * @module
 */
import { InvalidInputError } from '../core/errors.js';
import { randomSecret } from '../core/random.js';
import type { TokenMaker } from './types.js';
import { checkPrefix, checkToken } from './validate.js';

/**
 * The default token maker: `prefix` followed by 256 bits from the CSPRNG as
 * unpadded base64url (43 characters). Unlike the seed's `uuid()`, it never
 * uses `Math.random`.
 *
 * @param prefix - optional prefix, up to 64 characters without control characters
 * @returns the token
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for a bad prefix
 * @example `defaultTokenMaker('sess_') // 'sess_' + 43 base64url characters`
 */
export const defaultTokenMaker: TokenMaker = (prefix?: string): string => {
  checkPrefix(prefix);
  return `${prefix ?? ''}${randomSecret(32)}`;
};

/**
 * Call a token maker and check what it returns.
 * @throws InvalidInputError when the prefix is bad or the maker returns a short or non-string token
 */
export function makeToken(maker: TokenMaker, prefix: string | undefined): string {
  checkPrefix(prefix);
  const token = maker(prefix);
  try {
    checkToken(token, 'token');
  } catch (err) {
    throw new InvalidInputError(
      `the token maker returned an unusable token: ${(err as Error).message}`,
      'tokenMaker',
    );
  }
  return token;
}
