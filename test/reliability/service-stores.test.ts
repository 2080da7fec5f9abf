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
      const args = ['--log-level', 'debug', '--log-requests', 'true'];
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
      // Action tokens: a link (secret), an 8-digit code, a chosen value.
      for (const [i, body] of [
        { owner: 'leak@example.com', action: 'login' },
        { owner: 'leak@example.com', action: 'verify-email', generate: { kind: 'code' } },
        {
          owner: 'leak@example.com',
          action: 'reset',
          value: `chosen-${SECRET_VALUE.slice(0, 20)}`,
        },
      ].entries()) {
        const r = await api(A, 'POST', '/v1/action-tokens', body);
        if (r.status !== 201) {
          // `generate` may be named differently over HTTP: fall back to the default.
          expect(r.status, r.text).toBe(400);
          continue;
        }
        secrets.addFrom(`action token ${i}`, r.body);
        if (typeof body.value === 'string') secrets.add('chosen action value', body.value);
        const used = await api(B, 'POST', '/v1/action-tokens/use', {
          owner: body.owner,
          action: body.action,
          value: r.body.value,
        });
        expect(used.body.valid).toBe(true);
      }
      // A wrong guess is never logged either.
      const wrong = 'wrong-guess-0123456789abcdefghijklm';
      secrets.add('wrong guess', wrong);
      await api(B, 'POST', '/v1/action-tokens/use', { action: 'login', value: wrong });

      // Access tokens (PATs), verified, exchanged for a JWT, rotated.
      const pat = await api(A, 'POST', '/v1/access-tokens', { owner: 'leak-owner', roles: ['r1'] });
      expect(pat.status, pat.text).toBe(201);
      secrets.addFrom('pat', pat.body);
      const token = pat.body.token as string;
      expect((await api(B, 'POST', '/v1/access-tokens/verify', { token })).status).toBe(200);
      const jwt = await api(B, 'POST', '/auth/token', {
        grant_type: 'client_credentials',
        client_secret: token,
      });
      secrets.addFrom('jwt', jwt.body);
      const tokenId = pat.body.record?.tokenId ?? pat.body.tokenId;
      if (typeof tokenId === 'string') {
        const rotated = await api(A, 'POST', `/v1/access-tokens/${tokenId}/rotate`, {});
        secrets.addFrom('rotated pat', rotated.body);
      }

      // Challenges: a code, sealed metadata, a verify.
      const ch = await api(A, 'POST', '/v1/challenges', {
        action: 'otp',
        id: 'leak-user',
        secret: { type: 'number', length: 8 },
        metadata: { note: 'meta-secret-Xq9Zr7Lm2Pn4Vb6Wd8Yf0' },
      });
      expect(ch.status, ch.text).toBe(201);
      secrets.addFrom('challenge', ch.body);
      secrets.add('challenge metadata', 'meta-secret-Xq9Zr7Lm2Pn4Vb6Wd8Yf0');
      const chToken = ch.body.token ?? ch.body.secret;
      await api(B, 'POST', '/v1/challenges/verify', {
        action: 'otp',
        id: 'leak-user',
        ...(typeof chToken === 'string' ? { token: chToken } : {}),
      });

      // Sessions and session tokens.
      const session = await api(A, 'POST', '/v1/sessions', {
        owner: 'leak-owner',
        detachable: true,
      });
      expect(session.status, session.text).toBe(201);
      secrets.addFrom('session', session.body);
      expect(
        (await api(B, 'POST', '/v1/sessions/validate', { token: session.body.token })).status,
      ).toBe(200);
      const st = await api(A, 'POST', '/v1/session-tokens', {
        kind: 'bound',
        session: { token: session.body.token },
      });
      secrets.addFrom('session token', st.body);
      if (typeof st.body?.token === 'string')
        await api(B, 'POST', '/v1/session-tokens/check', { token: st.body.token });

      // Admin surface (seed-compatible): a token issued there.
      const adminTok = await api(A, 'POST', '/admin/tokens', { owner: 'leak-admin' });
      secrets.addFrom('admin token', adminTok.body);
      expect(secrets.items.length).toBeGreaterThanOrEqual(10);
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
