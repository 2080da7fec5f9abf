/**
 * Two `tessera serve` processes on one shared store, on every backend that can
 * be shared (SQLite file, PostgreSQL, Redis, Redis Cluster, DynamoDB on
 * dynalite): K racers split across both instances over HTTP on a token with N
 * uses get exactly min(K, N) successes; then every credential family is
 * issued and used, and the store's full dump and both services' logs hold
 * none of the secrets, codes or tokens issued (nor their hex/base64 forms).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigures, scale } from './support/figures.js';
import { SecretLog, scanForLeaks } from './support/leaks.js';
import {
  ADMIN,
  type Answer,
  api,
  ensureBuilt,
  removeTempDirs,
  SECRET,
  SECRET_VALUE,
  type Served,
  serve,
} from './support/serve.js';
import { gateKind, SHARED_KINDS, type SharedStore } from './support/stores.js';

beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => removeTempDirs());

/** The URL both instances of a test name as theirs (the JWT issuer). */
const PUBLIC_URL = 'https://tessera-rel.example';

/**
 * Secrets the family test records at least: 3 configured, plus what every
 * issuing call answers (so a call that stops issuing fails the test).
 */
const ISSUED_AT_LEAST = 20;

/** Racer rounds: [K racers, N uses]. */
const ROUNDS: Array<[number, number]> = [
  [scale(40, 400), 5],
  [scale(24, 200), 16],
  [scale(12, 100), 20],
];

for (const kind of SHARED_KINDS) {
  const run = await gateKind(kind, 'service reliability (racers over HTTP, leak scan)');
  if (!run) continue;
  describe(`two tessera serve instances on one ${kind.name} store`, () => {
    let store: SharedStore;
    let a: Served;
    let b: Served;
    const secrets = new SecretLog();
    secrets.add('admin credential', ADMIN);
    secrets.add('server secret', SECRET_VALUE);
    secrets.add('server secret pair', SECRET);

    beforeAll(async () => {
      store = await kind.open();
      // One public URL for both, so a JWT minted by one has the issuer the other expects.
      const args = ['--log-level', 'debug', '--log-requests', 'on', '--public-url', PUBLIC_URL];
      a = await serve({ store: store.url, args });
      b = await serve({ store: store.url, args });
    }, 90_000);
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await store?.cleanup();
    }, 60_000);

    it('gives exactly min(K, N) successes to K racers split across both instances', async () => {
      const figures: Array<{ racers: number; uses: number; successes: number }> = [];
      for (const [k, n] of ROUNDS) {
        const owner = `racer-${k}-${n}`;
        const created = await api(a.url, 'POST', '/v1/action-tokens', {
          owner,
          action: 'race',
          remainingUses: n,
        });
        expect(created.status).toBe(201);
        secrets.addFrom('race token', created.body);
        const value = created.body.value as string;
        const answers = await Promise.all(
          Array.from({ length: k }, (_, i) =>
            api(i % 2 === 0 ? a.url : b.url, 'POST', '/v1/action-tokens/use', {
              owner,
              action: 'race',
              value,
              drainWhenValid: false,
            }),
          ),
        );
        expect(answers.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
        const successes = answers.filter((r) => r.body.valid === true).length;
        expect(successes).toBe(Math.min(k, n));
        figures.push({ racers: k, uses: n, successes });
      }
      recordFigures(`http-race-${kind.name}`, {
        backend: kind.name,
        instances: 2,
        rounds: figures,
      });
    }, 60_000);

    it('issues and uses every credential family through both instances', async () => {
      const A = a.url;
      const B = b.url;
      /** The answer, required to have `status` (the body is shown when it has not). */
      const want = async (status: number, answer: Promise<Answer>): Promise<Answer> => {
        const r = await answer;
        expect(r.status, r.text.slice(0, 500)).toBe(status);
        return r;
      };
      const owner = 'leak@example.com';

      // Action tokens: a link (a generated secret, used by value alone), an 8-digit code,
      // a chosen value; issued on A, used on B.
      const link = await want(201, api(A, 'POST', '/v1/action-tokens', { owner, action: 'login' }));
      secrets.addFrom('action token link', link.body);
      expect(link.body.token.lookup).toBe(true);
      const code = await want(
        201,
        api(A, 'POST', '/v1/action-tokens', {
          owner,
          action: 'verify-email',
          generate: { kind: 'code' },
        }),
      );
      secrets.addFrom('action token code', code.body);
      expect(code.body.value).toMatch(/^\d{8}$/);
      const chosen = `chosen-${SECRET_VALUE.slice(0, 20)}`;
      secrets.add('chosen action value', chosen);
      await want(
        201,
        api(A, 'POST', '/v1/action-tokens', { owner, action: 'reset', value: chosen }),
      );
      // A wrong guess is refused, and never logged either.
      const wrong = 'wrong-guess-0123456789abcdefghijklm';
      secrets.add('wrong guess', wrong);
      const refused = await want(
        200,
        api(B, 'POST', '/v1/action-tokens/use', { owner, action: 'verify-email', value: wrong }),
      );
      expect(refused.body.valid).toBe(false);
      for (const body of [
        { action: 'login', value: link.body.value },
        { owner, action: 'verify-email', value: code.body.value },
        { owner, action: 'reset', value: chosen },
      ]) {
        const used = await want(200, api(B, 'POST', '/v1/action-tokens/use', body));
        expect(used.body.valid, `${body.action}: ${used.text}`).toBe(true);
      }

      // Access tokens (PATs): issued on A, verified and exchanged for a JWT on B, rotated on A
      // with an overlap (both secrets verify on B).
      const pat = await want(
        201,
        api(A, 'POST', '/v1/access-tokens', { owner: 'leak-owner', roles: ['r1'] }),
      );
      secrets.addFrom('pat', pat.body);
      const token = pat.body.token as string;
      const tokenId = pat.body.record.tokenId as string;
      const verified = await want(200, api(B, 'POST', '/v1/access-tokens/verify', { token }));
      expect(verified.body.valid).toBe(true);
      const jwt = await want(
        200,
        api(B, 'POST', '/auth/token', { grant_type: 'client_credentials', client_secret: token }),
      );
      expect(typeof jwt.body.access_token).toBe('string');
      secrets.addFrom('jwt', jwt.body);
      const rotated = await want(
        200,
        api(A, 'POST', `/v1/access-tokens/${tokenId}/rotate`, { overlapSeconds: 60 }),
      );
      secrets.addFrom('rotated pat', rotated.body);
      expect(rotated.body.token).not.toBe(token);
      for (const t of [rotated.body.token, token]) {
        const v = await want(200, api(B, 'POST', '/v1/access-tokens/verify', { token: t }));
        expect(v.body.valid).toBe(true);
      }

      // Challenges: a plain code and a sealed token, with sealed metadata; a regenerated
      // code; created on A, verified on B.
      // The metadata is application data, kept as given while the challenge lives; the
      // verify below erases the challenge, so none of it may remain in the store either.
      const meta = 'meta-secret-Xq9Zr7Lm2Pn4Vb6Wd8Yf0';
      secrets.add('challenge metadata', meta);
      const ch = await want(
        201,
        api(A, 'POST', '/v1/challenges', {
          action: 'otp',
          id: 'leak-user',
          secret: { type: 'number', length: 8 },
          metadata: { note: meta },
          regenerate: true,
        }),
      );
      secrets.addFrom('challenge', ch.body);
      expect(typeof ch.body.secret).toBe('string');
      const regen = await want(
        200,
        api(A, 'POST', '/v1/challenges/regenerate', { uid: ch.body.challenge.uid }),
      );
      secrets.addFrom('regenerated challenge', regen.body);
      const chOk = await want(
        200,
        api(B, 'POST', '/v1/challenges/verify', {
          action: 'otp',
          id: 'leak-user',
          token: regen.body.secret,
        }),
      );
      expect(chOk.body.valid, chOk.text).toBe(true);
      const sealed = await want(
        201,
        api(A, 'POST', '/v1/challenges', { action: 'register', id: 'leak-user' }),
      );
      secrets.addFrom('sealed challenge', sealed.body);
      const sealedOk = await want(
        200,
        api(B, 'POST', '/v1/challenges/verify', { token: sealed.body.secret }),
      );
      expect(sealedOk.body.valid, sealedOk.text).toBe(true);

      // Sessions and their tokens: a session on A, validated on B; a bound and a transferable
      // token, checked on B; the session destroyed on A ends the bound token at once.
      const session = await want(
        201,
        api(A, 'POST', '/v1/sessions', { owner: 'leak-owner', detachable: true }),
      );
      secrets.addFrom('session', session.body);
      const valid = await want(
        200,
        api(B, 'POST', '/v1/sessions/validate', { token: session.body.token }),
      );
      expect(valid.body.valid).toBe(true);
      const bound = await want(
        201,
        api(A, 'POST', '/v1/session-tokens', {
          kind: 'bound',
          session: { token: session.body.token },
          value: { cart: 42 },
        }),
      );
      secrets.addFrom('bound session token', bound.body);
      const carried = await want(
        201,
        api(A, 'POST', '/v1/session-tokens', {
          kind: 'transferable',
          session: { token: session.body.token },
          value: 'gift',
        }),
      );
      secrets.addFrom('transferable session token', carried.body);
      for (const t of [bound.body.token, carried.body.token]) {
        const c = await want(200, api(B, 'POST', '/v1/session-tokens/check', { token: t }));
        expect(c.body.valid, c.text).toBe(true);
      }
      const destroyed = await want(
        200,
        api(A, 'POST', '/v1/sessions/destroy', { token: session.body.token }),
      );
      expect(destroyed.body.destroyed).toBe(true);
      const dead = await want(
        200,
        api(B, 'POST', '/v1/session-tokens/check', { token: bound.body.token }),
      );
      expect(dead.body.valid).toBe(false);

      // The seed's admin surface: an admin PAT issued on A, exchanged for an admin JWT on B,
      // which A accepts (both instances share one public URL, so one JWT issuer).
      const adminPat = await want(
        201,
        api(A, 'POST', '/v1/access-tokens', { owner: 'leak-admin', isAdmin: true }),
      );
      secrets.addFrom('admin pat', adminPat.body);
      const adminJwt = await want(
        200,
        api(B, 'POST', '/auth/token', {
          grant_type: 'client_credentials',
          client_secret: adminPat.body.token,
        }),
      );
      secrets.addFrom('admin jwt', adminJwt.body);
      const adminTok = await want(
        201,
        api(A, 'POST', '/admin/tokens', { owner: 'leak-admin-issued' }, adminJwt.body.access_token),
      );
      secrets.addFrom('admin-issued token', adminTok.body);
      const adminVerified = await want(
        200,
        api(B, 'POST', '/v1/access-tokens/verify', { token: adminTok.body.token }),
      );
      expect(adminVerified.body.valid).toBe(true);

      // Every value above was recorded for the scan (3 configured and 17 issued values at least).
      expect(secrets.items.length).toBeGreaterThanOrEqual(ISSUED_AT_LEAST);
    }, 60_000);

    it('holds none of those secrets in the store dump or either log', async () => {
      // The scan itself finds what it looks for (a control: the hex of a secret's bytes).
      const control = scanForLeaks(secrets, [
        { where: 'control', text: `x${Buffer.from(ADMIN).toString('hex')}x` },
      ]);
      expect(control.hits.length).toBeGreaterThan(0);
      const dump = await store.dump();
      expect(dump.length).toBeGreaterThan(0);
      const texts = [
        { where: `${kind.name} store dump`, text: dump },
        { where: 'instance A log', text: a.output() },
        { where: 'instance B log', text: b.output() },
      ];
      const result = scanForLeaks(secrets, texts);
      recordFigures(`leaks-${kind.name}`, {
        backend: kind.name,
        secretsIssued: result.checked,
        formsScanned: result.forms,
        dumpBytes: dump.length,
        logBytes: a.output().length + b.output().length,
        hits: result.hits.length,
        hitDetails: result.hits,
      });
      expect(result.hits).toEqual([]);
    }, 60_000);
  });
}
