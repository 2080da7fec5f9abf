/**
 * Client credentials of the token endpoint (RFC 6749 §2.3.1): the body's
 * `client_secret` (client_secret_post), `Authorization: Basic`
 * (client_secret_basic) and, as the seed allows, `Authorization: Bearer`.
 * @module
 */

/** How the client presented its secret. */
export type CredentialMethod = 'client_secret_post' | 'client_secret_basic' | 'bearer';

/** A presented credential. */
export interface ClientCredential {
  /** Where it came from: the body, Basic or Bearer. */
  readonly method: CredentialMethod;
  /** The PAT. */
  readonly secret: string;
  /** The client id of Basic or of the body, when given (not used to authenticate). */
  readonly clientId?: string;
}

/** What the `Authorization` header holds. */
export type AuthorizationHeader =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly clientId: string; readonly secret: string }
  | { readonly kind: 'malformed_basic' }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'other' };

/**
 * `application/x-www-form-urlencoded` decoding of one Basic component
 * (RFC 6749 §2.3.1, `+` is a space). PAT secrets never contain a space, so
 * when decoding turns a `+` into one, the `+` is kept instead: clients of
 * `@access-tokens/express`, which never encoded, keep working. A malformed
 * `%` escape leaves the value as sent.
 *
 * @param value - the raw component
 * @param isSecret - apply the `+` rule (secrets only; client ids decode per the RFC)
 * @example `formDecode('a%2Bb+c', false) // 'a+b c'`
 */
export function formDecode(value: string, isSecret: boolean): string {
  try {
    const decoded = decodeURIComponent(value.replace(/\+/g, ' '));
    if (isSecret && value.includes('+') && decoded.includes(' ')) {
      return decodeURIComponent(value);
    }
    return decoded;
  } catch {
    return value;
  }
}

/**
 * A `client_secret` from the body with spaces turned back into `+`: an
 * unencoded `+` in a form body arrives as a space (the seed's pitfall with
 * standard-base64 secrets), and no PAT contains a space, so this never
 * changes a valid secret.
 * @param secret - the decoded `client_secret`
 * @example `restorePlus('pat_id.ab cd=') // 'pat_id.ab+cd='`
 */
export function restorePlus(secret: string): string {
  return secret.includes(' ') ? secret.replace(/ /g, '+') : secret;
}

/**
 * Parse an `Authorization` header (schemes are case-insensitive, RFC 9110 §11.1).
 * Basic components are form-url-decoded (RFC 6749 §2.3.1, see {@link formDecode}).
 * @param header - the header value
 * @returns `none`, `basic` (client id and secret), `malformed_basic`, `bearer`, or `other`
 * @example `parseAuthorization('Bearer pat_x') // { kind: 'bearer', token: 'pat_x' }`
 */
export function parseAuthorization(header: string | undefined): AuthorizationHeader {
  if (header === undefined || header.trim() === '') return { kind: 'none' };
  const m = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?: +(.*))?$/.exec(header.trim());
  if (!m) return { kind: 'other' };
  const scheme = (m[1] as string).toLowerCase();
  const rest = (m[2] ?? '').trim();
  if (scheme === 'bearer') {
    return rest === '' || /\s/.test(rest) ? { kind: 'other' } : { kind: 'bearer', token: rest };
  }
  if (scheme !== 'basic') return { kind: 'other' };
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(rest)) return { kind: 'malformed_basic' };
  const decoded = Buffer.from(rest, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return { kind: 'malformed_basic' };
  return {
    kind: 'basic',
    clientId: formDecode(decoded.slice(0, colon), false),
    secret: formDecode(decoded.slice(colon + 1), true),
  };
}

/**
 * Whether a string has the shape of a compact JWS (three base64url parts, a JSON header).
 * @param token - a presented token
 * @example `looksLikeJwt('pat_abc') // false`
 */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

const ID_RE = /^[0-9A-Za-z]{21}$/;

/**
 * The token id inside a PAT, for per-id throttling: the 21 base62 characters
 * before the `.` of the seed's `pat_<id>.<base64>`, or those after the prefix
 * of Tessera's `<prefix><id><43-char secret><6-char checksum>`.
 *
 * @param token - a presented PAT
 * @returns the id, or `null` when the string has neither shape
 * @example `defaultTokenIdOf('pat_4Hq0rT2mZ8xYb1cVd3eWf.c2VjcmV0') // '4Hq0rT2mZ8xYb1cVd3eWf'`
 */
export function defaultTokenIdOf(token: string): string | null {
  const dot = token.indexOf('.');
  if (dot !== -1) {
    const id = token.slice(Math.max(0, dot - 21), dot);
    return ID_RE.test(id) ? id : null;
  }
  if (token.length < 71) return null;
  const id = token.slice(-70, -49);
  return ID_RE.test(id) ? id : null;
}
