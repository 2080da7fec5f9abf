/**
 * Token endpoint throttling, on the handler layer: the per-(token id,
 * source) failure budget is charged before evaluation (parallel guesses never
 * get more evaluations than the budget), refunded for right secrets, kept in
 * the store (instances share it), and cannot lock the owner out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAccessTokens } from '../../src/access-tokens/index.js';
import { DynamoDBPat } from '../../src/compat/access-tokens/index.js';
import { createFakeClock } from '../../src/core/clock.js';
import { createAuthHandlers } from '../../src/http/auth-handlers.js';
import { fromAccessTokens } from '../../src/http/native-adapter.js';
import { createTokenIdBudget, sourceOf } from '../../src/http/token-id-budget.js';
import type { AccessTokenMethods, HttpRequest, HttpResponse } from '../../src/http/types.js';
import { buildSignerVerifier, generateKeySet } from '../../src/jwt/index.js';
import type { Store } from '../../src/stores/contract.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { createSqliteStore } from '../../src/stores/sqlite/index.js';

const sv = await buildSignerVerifier({ keySet: await generateKeySet('k1'), issuer: 'i' });

async function setup(limit: number) {
  const store = createMemoryStore();
  const clock = createFakeClock(Date.UTC(2026, 0, 1));
  const facade = new DynamoDBPat({ store, scryptOptions: { cost: 1024 } });
  const { token } = await facade.issue({ owner: 'alice' });
  let evaluations = 0;
  const state = { storeDown: false };
  const pat: AccessTokenMethods = {
    ...(facade as unknown as AccessTokenMethods),
    verify: async (t: string) => {
      if (state.storeDown) throw new Error('store down');
      evaluations++;
      return facade.verify(t);
    },
  };
  const handlers = (throttleStore: Store | undefined = store) =>
    createAuthHandlers({
      pat,
      signerVerifier: sv,
      clock,
      bootstrap: false,
      throttle: {
        store: throttleStore ?? store,
        perIp: false,
        perTokenId: { limit, windowSeconds: 300 },
      },
    });
  return {
    store,
    clock,
    token,
    wrong: `${token.slice(0, -5)}AAAA=`,
    handlers,
    state,
    evaluations: () => evaluations,
  };
}

function exchange(
  auth: ReturnType<typeof createAuthHandlers>,
  secret: string,
  ip: string,
): Promise<HttpResponse> {
  const req: HttpRequest = {
    method: 'POST',
    path: '/token',
    headers: {},
    query: {},
    params: {},
    body: { client_secret: secret },
    ip,
    origin: 'http://localhost',
  };
  return auth.token(req);
}

const statuses = (rs: readonly HttpResponse[]) => rs.map((r) => r.status).sort();

describe('the per-(token id, source) failure budget', () => {
  it('gives parallel wrong guesses no more evaluations than the budget', async () => {
    const s = await setup(5);
    const auth = s.handlers();
    const rs = await Promise.all(
      Array.from({ length: 40 }, () => exchange(auth, s.wrong, '198.51.100.7')),
    );
    expect(s.evaluations()).toBe(5);
    expect(statuses(rs)).toEqual([...Array(5).fill(401), ...Array(35).fill(429)]);
    for (const r of rs.filter((x) => x.status === 429)) {
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('keeps the budget in the store: two instances on two connections to one database share it', async () => {
    const s = await setup(4);
    const dir = mkdtempSync(join(tmpdir(), 'tessera-throttle-'));
    const [one, two] = [0, 1].map(() => createSqliteStore({ path: join(dir, 'throttle.db') }));
    try {
      await one?.migrate();
      await two?.migrate();
      const [a, b] = [s.handlers(one), s.handlers(two)];
      const rs = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          exchange(i % 2 === 0 ? a : b, s.wrong, '198.51.100.7'),
        ),
      );
      expect(s.evaluations()).toBe(4);
      expect(statuses(rs)).toEqual([...Array(4).fill(401), ...Array(8).fill(429)]);
      expect((await exchange(b, s.token, '198.51.100.7')).status).toBe(429);
      expect((await exchange(a, s.token, '203.0.113.20')).status).toBe(200);
    } finally {
      await one?.close();
      await two?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets the right secret pass from another source while the guessing source gets 429', async () => {
    const s = await setup(3);
    const auth = s.handlers();
    const attacker = '198.51.100.7';
    const owner = '203.0.113.20';
    for (let i = 0; i < 3; i++) expect((await exchange(auth, s.wrong, attacker)).status).toBe(401);
    expect((await exchange(auth, s.wrong, attacker)).status).toBe(429);
    // From the guessing source the right secret is not evaluated either: it cannot be told from a guess.
    const before = s.evaluations();
    expect((await exchange(auth, s.token, attacker)).status).toBe(429);
    expect(s.evaluations()).toBe(before);
    // The owner, elsewhere, exchanges as often as it likes: right secrets never use the budget up.
    for (let i = 0; i < 6; i++) expect((await exchange(auth, s.token, owner)).status).toBe(200);
    expect((await exchange(auth, s.wrong, attacker)).status).toBe(429);
    // The owner's own budget is whole: three wrong secrets are evaluated, the fourth is not.
    for (let i = 0; i < 3; i++) expect((await exchange(auth, s.wrong, owner)).status).toBe(401);
    expect((await exchange(auth, s.wrong, owner)).status).toBe(429);
  });

  it('opens again when the window ends (fake clock)', async () => {
    const s = await setup(1);
    const auth = s.handlers();
    expect((await exchange(auth, s.wrong, '198.51.100.7')).status).toBe(401);
    const throttled = await exchange(auth, s.token, '198.51.100.7');
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('300');
    s.clock.advance(300_000);
    expect((await exchange(auth, s.token, '198.51.100.7')).status).toBe(200);
  });

  it('gives one attempt back on refund, never to a later window', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock(Date.UTC(2026, 0, 1));
    const budget = createTokenIdBudget({
      store,
      collection: 't',
      rule: { limit: 1, windowSeconds: 60 },
      clock,
    });
    const first = await budget.charge('id1', '198.51.100.7');
    expect(first.ok).toBe(true);
    expect((await budget.charge('id1', '198.51.100.7')).ok).toBe(false);
    if (first.ok) await budget.refund(first.ticket);
    expect((await budget.charge('id1', '198.51.100.7')).ok).toBe(true);
    // A refund never reaches a later window.
    const later = await budget.charge('id2', '198.51.100.7');
    clock.advance(60_000);
    const fresh = await budget.charge('id2', '198.51.100.7');
    expect(fresh.ok).toBe(true);
    if (later.ok) await budget.refund(later.ticket);
    expect((await budget.charge('id2', '198.51.100.7')).ok).toBe(false);
  });

  it('does not count an attempt whose verification failed in the store', async () => {
    const s = await setup(1);
    const auth = s.handlers();
    s.state.storeDown = true;
    for (let i = 0; i < 3; i++)
      expect((await exchange(auth, s.wrong, '198.51.100.7')).status).toBe(500);
    s.state.storeDown = false;
    expect((await exchange(auth, s.wrong, '198.51.100.7')).status).toBe(401);
    expect((await exchange(auth, s.wrong, '198.51.100.7')).status).toBe(429);
  });

  it('keeps IPv6 budgets per /64 and reads IPv4-mapped addresses as IPv4', async () => {
    expect(sourceOf('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(sourceOf('2001:0db8:0001:0002::9')).toBe('2001:db8:1:2::/64');
    expect(sourceOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceOf('::1')).toBe('0:0:0:0::/64');
    expect(sourceOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(sourceOf('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(sourceOf('192.0.2.1')).toBe('192.0.2.1');
    expect(sourceOf('')).toBe('unknown');
    expect(sourceOf('1:2:3')).toBe('1:2:3');
    const s = await setup(2);
    const auth = s.handlers();
    expect((await exchange(auth, s.wrong, '2001:db8:1:2::a')).status).toBe(401);
    expect((await exchange(auth, s.wrong, '2001:db8:1:2::b')).status).toBe(401);
    expect((await exchange(auth, s.wrong, '2001:db8:1:2:ffff::c')).status).toBe(429);
    expect((await exchange(auth, s.token, '2001:db8:1:3::a')).status).toBe(200);
  });
});

describe('throttling by default', () => {
  async function patWithStore() {
    const store = createMemoryStore();
    const facade = new DynamoDBPat({ store, scryptOptions: { cost: 1024 } });
    const { token } = await facade.issue({ owner: 'alice' });
    const methods = facade as unknown as AccessTokenMethods;
    const withStore: AccessTokenMethods = {
      verify: (t) => methods.verify(t),
      issue: (i) => methods.issue(i),
      register: (i) => methods.register(i),
      update: (id, u) => methods.update(id, u),
      revoke: (id, o) => methods.revoke(id, o),
      restore: (id) => methods.restore(id),
      list: (o) => methods.list(o),
      batchLoad: (ids, o) => methods.batchLoad(ids, o),
      store,
    };
    return { store, token, wrong: `${token.slice(0, -5)}AAAA=`, pat: withStore };
  }

  it('is on, in the store, when the access-token object exposes its store', async () => {
    const p = await patWithStore();
    const auth = createAuthHandlers({ pat: p.pat, signerVerifier: sv });
    for (let i = 0; i < 10; i++)
      expect((await exchange(auth, p.wrong, '198.51.100.7')).status).toBe(401);
    expect((await exchange(auth, p.wrong, '198.51.100.7')).status).toBe(429);
    expect((await exchange(auth, p.token, '203.0.113.20')).status).toBe(200);
    const windows = await p.store.list('http-throttle');
    expect(windows.records.length).toBeGreaterThan(0);
  });

  it('is off with throttle: false, and off (with a warning) when no store is exposed', async () => {
    const p = await patWithStore();
    const off = createAuthHandlers({ pat: p.pat, signerVerifier: sv, throttle: false });
    for (let i = 0; i < 12; i++)
      expect((await exchange(off, p.wrong, '198.51.100.7')).status).toBe(401);
    const warnings: string[] = [];
    const { store: _store, ...noStore } = p.pat;
    const unthrottled = createAuthHandlers({
      pat: noStore,
      signerVerifier: sv,
      logger: { warn: (_o, msg) => warnings.push(String(msg)), error: () => {} },
    });
    expect(warnings).toEqual([
      'tessera: token endpoint throttling is OFF (pat exposes no store): pass throttle: { store }',
    ]);
    for (let i = 0; i < 12; i++) {
      expect((await exchange(unthrottled, p.wrong, '198.51.100.8')).status).toBe(401);
    }
  });

  it('follows the store through fromAccessTokens when the native object exposes it', async () => {
    const store = createMemoryStore();
    const native = { ...createAccessTokens({ store }), store };
    const pat = fromAccessTokens(native as never);
    expect(pat.store).toBe(store);
    expect(fromAccessTokens(createAccessTokens({ store }) as never).store).toBeUndefined();
  });
});

describe('throttle options', () => {
  it('refuses bad rules when the handlers are created, not at the first request', async () => {
    const store = createMemoryStore();
    const pat = new DynamoDBPat({ store, scryptOptions: { cost: 1024 } });
    for (const throttle of [
      { store, perIp: { limit: 0, windowSeconds: 60 } },
      { store, perTokenId: { limit: 1, windowSeconds: 0 } },
    ]) {
      expect(() => createAuthHandlers({ pat, signerVerifier: sv, throttle })).toThrow(RangeError);
    }
  });
});
