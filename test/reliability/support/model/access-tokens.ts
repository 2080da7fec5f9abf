/**
 * The access-token (PAT) family of the model-based tests: issue with or
 * without expiry; verify the current secret, the one a rotation replaced
 * (within or past its overlap), an older one, or a tampered token; rotate
 * with or without overlap; revoke (keeping the expiry, or giving the revoked
 * record a new one) and restore (bringing the old expiry back); delete.
 */
import fc from 'fast-check';
import { createAccessTokens } from '../../../../src/access-tokens/index.js';
import { createFakeClock } from '../../../../src/core/clock.js';
import { randomSuffix } from '../../../../src/testing/index.js';
import { codeOf, compare, type ModelFamily, nth, T0 } from './harness.js';

/** One access-token command. */
export type PatOp =
  | { t: 'issue'; ttl: number | undefined }
  /** `back`: 0 the current secret, 1 the one before the last rotation, 2 the one before that. */
  | { t: 'verify'; i: number; back: number; tamper: boolean }
  /** `exp`: keep the expiry (undefined), remove it (null) or set one, seconds from now. */
  | { t: 'revoke'; i: number; exp: number | null | undefined }
  | { t: 'restore'; i: number }
  | { t: 'rotate'; i: number; overlap: number }
  | { t: 'delete'; i: number }
  | { t: 'tick'; s: number };

const ttl = fc.integer({ min: 1, max: 90 });
const i = fc.nat(5);

const op: fc.Arbitrary<PatOp> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('issue' as const),
      ttl: fc.option(ttl, { nil: undefined }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('verify' as const),
      i,
      back: fc.nat(2),
      tamper: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('revoke' as const),
      i,
      exp: fc.oneof(fc.constant(undefined), fc.constant(null), ttl),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restore' as const), i }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('rotate' as const),
      i,
      overlap: fc.constantFrom(0, 30),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), i }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('tick' as const), s: fc.integer({ min: 0, max: 60 }) }),
  },
);

const verify = (i: number, back = 0, tamper = false): PatOp => ({ t: 'verify', i, back, tamper });
const tick = (s: number): PatOp => ({ t: 'tick', s });

/** Hand-written sequences: rotation overlaps, revoke and restore with expiries, delete. */
const examples: PatOp[][] = [
  [
    { t: 'issue', ttl: 90 },
    verify(0),
    verify(0, 0, true),
    { t: 'rotate', i: 0, overlap: 30 },
    verify(0),
    verify(0, 1),
    { t: 'rotate', i: 0, overlap: 30 },
    verify(0, 1),
    verify(0, 2),
    tick(31),
    verify(0, 1),
    verify(0),
    { t: 'rotate', i: 0, overlap: 0 },
    verify(0, 1),
    tick(60),
    verify(0),
  ],
  [
    { t: 'issue', ttl: 60 },
    { t: 'issue', ttl: undefined },
    { t: 'revoke', i: 0, exp: undefined },
    verify(0),
    { t: 'rotate', i: 0, overlap: 30 },
    { t: 'revoke', i: 0, exp: 30 },
    { t: 'restore', i: 0 },
    verify(0),
    { t: 'revoke', i: 1, exp: 20 },
    { t: 'revoke', i: 1, exp: null },
    tick(30),
    verify(1),
    { t: 'restore', i: 1 },
    { t: 'restore', i: 1 },
    verify(1),
    tick(31),
    verify(0),
    { t: 'delete', i: 0 },
    { t: 'delete', i: 0 },
    verify(0),
    { t: 'rotate', i: 0, overlap: 0 },
    { t: 'revoke', i: 0, exp: undefined },
    { t: 'restore', i: 0 },
  ],
];

/** The model's token. */
interface Pat {
  /** Secrets issued for it so far (the first, then one per rotation); the last is current. */
  count: number;
  /** Index of the secret a rotation replaced, while its overlap lasts. */
  prev: number | null;
  prevExp: number | null;
  exp: number | null;
  revoked: boolean;
  /** The expiry restore brings back (set by revoke). */
  expBefore: number | null;
  deleted: boolean;
}

export const accessTokensFamily: ModelFamily<PatOp> = {
  key: 'accessTokens',
  title:
    'access tokens behave like the model: issue, verify (current, rotated-out within or past its overlap, older, tampered), rotate, revoke and restore with their expiries, delete, expiry',
  commands: [
    'issue',
    'verify:current',
    'verify:previous',
    'verify:tampered',
    'rotate:overlap',
    'rotate:no-overlap',
    'revoke',
    'revoke:new-expiry',
    'restore',
    'delete',
    'tick',
  ],
  labels(o) {
    if (o.t === 'verify')
      return [o.tamper ? 'verify:tampered' : o.back === 0 ? 'verify:current' : 'verify:previous'];
    if (o.t === 'rotate') return [o.overlap > 0 ? 'rotate:overlap' : 'rotate:no-overlap'];
    if (o.t === 'revoke') return o.exp === undefined ? ['revoke'] : ['revoke', 'revoke:new-expiry'];
    return [o.t];
  },
  op,
  examples,
  async run(store, issued, seq, onStep) {
    const clock = createFakeClock(T0);
    const pats = createAccessTokens({ store, clock, collection: `p${randomSuffix(6)}` });
    /** What the real side knows: each token's id and every secret string it was given. */
    const minted: Array<{ id: string; tokens: string[] }> = [];
    /** Which of its secrets the real side presented in this step. */
    let presented = -1;
    const m: Pat[] = [];
    const tamper = (t: string) => `${t.slice(0, -8)}${t.slice(-8).split('').reverse().join('')}`;
    try {
      await compare(
        seq,
        async (op) => {
          if (op.t === 'tick') {
            clock.advance(op.s * 1000);
            return null;
          }
          try {
            if (op.t === 'issue') {
              const r = await pats.issue({
                owner: 'model-owner',
                ...(op.ttl === undefined ? {} : { expiresAt: clock.now() + op.ttl * 1000 }),
              });
              minted.push({ id: r.record.tokenId, tokens: [r.token] });
              issued.add('access token', r.token);
              return 'issued';
            }
            const t = nth(minted, op.i);
            if (t === undefined) return 'none';
            if (op.t === 'verify') {
              presented = Math.max(0, t.tokens.length - 1 - op.back);
              const secret = t.tokens[presented] as string;
              const token = op.tamper ? tamper(secret) : secret;
              if (op.tamper && token === secret) return 'palindrome';
              const r = await pats.verify(token);
              return r.valid ? 'valid' : op.tamper ? 'invalid' : r.reason;
            }
            if (op.t === 'rotate') {
              const r = await pats.rotate(t.id, { overlapSeconds: op.overlap });
              t.tokens.push(r.token);
              issued.add('rotated access token', r.token);
              return `rotated:${r.record.previousSecretExpiresAt}`;
            }
            if (op.t === 'revoke') {
              const r = await pats.revoke(
                t.id,
                op.exp === undefined
                  ? {}
                  : { expiresAt: op.exp === null ? null : clock.now() + op.exp * 1000 },
              );
              return `revoked:${r.revokedAt !== null}:${r.expiresAt}`;
            }
            if (op.t === 'restore') {
              const r = await pats.restore(t.id);
              return `restored:${r.revokedAt !== null}:${r.expiresAt}`;
            }
            return await pats.delete(t.id);
          } catch (err) {
            return codeOf(err);
          }
        },
        (op) => {
          if (op.t === 'tick') return null;
          const now = clock.now();
          if (op.t === 'issue') {
            m.push({
              count: 1,
              prev: null,
              prevExp: null,
              exp: op.ttl === undefined ? null : now + op.ttl * 1000,
              revoked: false,
              expBefore: null,
              deleted: false,
            });
            return 'issued';
          }
          const t = nth(m, op.i);
          if (t === undefined) return 'none';
          if (op.t === 'verify') {
            if (op.tamper) return 'invalid';
            if (t.deleted) return 'not_found';
            const current = presented === t.count - 1;
            const overlap = presented === t.prev && t.prevExp !== null && t.prevExp > now;
            if (!current && !overlap) return 'invalid_secret';
            if (t.revoked) return 'revoked';
            if (t.exp !== null && t.exp <= now) return 'expired';
            return 'valid';
          }
          if (t.deleted) return op.t === 'delete' ? false : 'ERR_TESSERA_NOT_FOUND';
          if (op.t === 'rotate') {
            if (t.revoked) return 'ERR_TESSERA_REVOKED';
            t.prev = op.overlap > 0 ? t.count - 1 : null;
            t.prevExp = op.overlap > 0 ? now + op.overlap * 1000 : null;
            t.count += 1;
            return `rotated:${t.prevExp}`;
          }
          if (op.t === 'revoke') {
            if (!t.revoked) {
              t.revoked = true;
              t.expBefore = t.exp;
              if (op.exp !== undefined) t.exp = op.exp === null ? null : now + op.exp * 1000;
            }
            return `revoked:true:${t.exp}`;
          }
          if (op.t === 'restore') {
            if (t.revoked) {
              t.revoked = false;
              t.exp = t.expBefore;
              t.expBefore = null;
            }
            return `restored:false:${t.exp}`;
          }
          t.deleted = true;
          return true;
        },
        onStep,
      );
    } finally {
      await pats.close();
    }
  },
};
