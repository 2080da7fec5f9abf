/**
 * What `verify` takes, checked as ms-token checks it: a token string
 * (decoded) or `{ id, action, token }`, the options, and the `control`
 * sanity check with ms-token's AssertionError.
 * @module
 */
import { strictEqual } from 'node:assert';
import { type VerifyOpts, validateVerifyArgs, validateVerifyOpts } from './schemas.js';
import type { DecodedToken } from './tokens.js';

/** A checked `verify` call. */
export interface VerifyCall {
  /** The decoded arguments (what `e.args` reports on failures). */
  readonly parsed: { id: string; action: string; token: string | undefined };
  /** What the native module verifies: a sealed token, or action + id (+ the plain secret). */
  readonly input: string | { action: string; id: string; token?: string };
  readonly opts: VerifyOpts;
}

/**
 * Check a `verify` call.
 *
 * @param args - a token string or `{ id, action, token }`
 * @param opts - `{ erase, log, control }`
 * @param decode - decodes a token string (Tessera sealed or ms-token `v1`)
 * @throws ValidationError, Error `'invalid token'`, AssertionError ("Sanity check failed ..."),
 *   TypeError without arguments (as ms-token)
 * @example `const { input, parsed, opts } = checkVerifyCall(token, { erase: false }, decode);`
 */
export function checkVerifyCall(
  args: unknown,
  opts: unknown,
  decode: (token: string) => DecodedToken,
): VerifyCall {
  let parsed: VerifyCall['parsed'];
  let input: VerifyCall['input'];
  if (args === undefined) {
    // ms-token validates no missing argument, and then fails reading it.
    const o = validateVerifyOpts(opts);
    const [prop] = Object.keys(o.control);
    throw new TypeError(
      prop === undefined
        ? "Cannot destructure property 'uid' of 'undefined' as it is undefined."
        : `Cannot read properties of undefined (reading '${prop}')`,
    );
  }
  if (typeof args === 'string') {
    const d = decode(args);
    if (d.kind === 'sealed') {
      parsed = { id: d.payload.id, action: d.payload.action, token: d.payload.secret };
      input = d.token;
    } else {
      parsed = validateVerifyArgs(d.payload);
      input = { action: parsed.action, id: parsed.id, token: parsed.token };
    }
  } else {
    parsed = validateVerifyArgs(args);
    input =
      parsed.token === undefined
        ? { action: parsed.action, id: parsed.id }
        : { action: parsed.action, id: parsed.id, token: parsed.token };
  }
  const o = validateVerifyOpts(opts);
  for (const [prop, check] of Object.entries(o.control)) {
    const value = parsed[prop as 'id' | 'action'];
    // As ms-token, so the message is Node's for this custom text (it may append a diff).
    strictEqual(check, value, `Sanity check failed for "${prop}" failed: "${check}" vs "${value}"`);
  }
  return { parsed, input, opts: o };
}
