import { describe, expect, it } from 'vitest';
import { createAccessTokens } from '../../src/access-tokens/index.js';
import { tokensCommand } from '../../src/cli/commands/tokens.js';
import type { CliContext } from '../../src/cli/context.js';
import { createFakeClock } from '../../src/core/clock.js';
import { buildSignerVerifier, generateKeySet } from '../../src/jwt/index.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { testKeyring } from '../../src/testing/action-tokens-suite.js';

function setup() {
  const store = createMemoryStore();
  const clock = createFakeClock();
  const keyring = testKeyring();
  let out = '';
  let err = '';
  let opened = 0;
  const ctx: CliContext = {
    io: {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
      stderrIsTty: false,
    },
    clock,
    openStore: async () => {
      opened++;
      return store;
    },
    keyring: async () => keyring,
  };
  const run = async (...args: string[]) => {
    out = '';
    err = '';
    const code = await tokensCommand.run(args, ctx);
    return { code, out, err };
  };
  const pats = createAccessTokens({ store, keyring, clock });
  return { run, pats, clock, store, opened: () => opened };
}

const TOKEN_RE = /pat_[A-Za-z0-9]{21}[A-Za-z0-9_-]{43}[A-Za-z0-9]{6}/g;

describe('tessera tokens', () => {
  it('issues a token, printing it once and never its hash', async () => {
    const { run, pats } = setup();
    const r = await run('issue', '--owner', 'ci@example.com', '--role', 'deploy', '--ttl', '30d');
    expect(r.code).toBe(0);
    const tokens = r.out.match(TOKEN_RE) ?? [];
    expect(tokens).toHaveLength(1);
    expect(r.out).toContain('printed once');
    expect(r.out).toMatch(/Owner: +ci@example.com/);
    expect(r.out).toMatch(/Roles: +deploy/);
    expect(r.out).not.toMatch(/\$(sha256|hmac-sha256|scrypt)\$|secretPhc/);
    const v = await pats.verify(tokens[0]!);
    expect(v.valid && v.record.roles).toEqual(['deploy']);
    expect(v.valid && v.record.expiresAt).toBe(Date.UTC(2026, 0, 31));
  });

  it('prints JSON with --json, and lists, shows and filters tokens without hashes', async () => {
    const { run } = setup();
    const issued = JSON.parse((await run('issue', '--owner', 'a', '--admin', '--json')).out);
    expect(issued.token).toMatch(TOKEN_RE);
    expect(issued.record).toMatchObject({ owner: 'a', isAdmin: true, roles: [] });
    await run('issue', '--owner', 'b', '--role', 'ops');
    const listed = JSON.parse((await run('list', '--json')).out);
    expect(listed.tokens).toHaveLength(2);
    expect(listed.cursor).toBeNull();
    expect(JSON.stringify(listed)).not.toMatch(/secretPhc|\$hmac/);
    const ops = JSON.parse((await run('list', '--role', 'ops', '--json')).out);
    expect(ops.tokens.map((t: { owner: string }) => t.owner)).toEqual(['b']);
    const mine = JSON.parse((await run('list', '--owner', 'a', '--json')).out);
    expect(mine.tokens.map((t: { owner: string }) => t.owner)).toEqual(['a']);
    const table = await run('list', '--limit', '1');
    expect(table.out).toMatch(/^TOKEN ID +OWNER +ADMIN +STATUS +EXPIRES +ROLES\n/);
    expect(table.out).toMatch(/More: tessera tokens list --cursor \S+/);
    const cursor = /--cursor (\S+)/.exec(table.out)![1]!;
    const next = JSON.parse((await run('list', '--limit', '1', '--cursor', cursor, '--json')).out);
    expect(next.tokens).toHaveLength(1);
    const shown = await run('show', issued.record.tokenId);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/Status: +active/);
    expect(shown.out).not.toMatch(TOKEN_RE);
  });

  it('updates, revokes, restores and rotates', async () => {
    const { run, pats, clock } = setup();
    const { token, record } = await pats.issue({ owner: 'o', roles: ['a'] });
    const id = record.tokenId;
    expect((await run('update', id, '--add-role', 'b', '--add-role', 'c')).out).toMatch(
      /Roles: +a, b, c/,
    );
    expect((await run('update', id, '--remove-role', 'a')).out).toMatch(/Roles: +b, c/);
    const u = await run('update', id, '--owner', 'p', '--no-admin', '--expires-at', '2027-01-31');
    expect(u.out).toMatch(/Owner: +p/);
    expect(u.out).toMatch(/Expires: +2027-01-31T00:00:00.000Z/);
    expect((await run('update', id, '--no-expiry')).out).toMatch(/Expires: +-/);
    expect((await run('revoke', id)).out).toMatch(/Status: +revoked/);
    expect((await pats.verify(token)).reason).toBe('revoked');
    expect((await run('restore', id)).out).toMatch(/Status: +active/);
    const rotated = await run('rotate', id, '--overlap', '1h', '--json');
    const { token: fresh } = JSON.parse(rotated.out);
    expect(fresh).toMatch(TOKEN_RE);
    expect(fresh).not.toBe(token);
    expect((await pats.verify(fresh)).valid).toBe(true);
    expect((await pats.verify(token)).valid).toBe(true);
    clock.advance(3_600_000);
    expect((await pats.verify(token)).reason).toBe('invalid_secret');
  });

  it('ends the JWTs the service minted from a token it revokes, rotates or demotes', async () => {
    const { run, pats, clock, store } = setup();
    // The service's signer on the same store, with the longest JWT lifetime it allows.
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('k1'),
      issuer: 'tessera',
      ttl: 86_400,
      store,
      clock,
    });
    const mint = (tokenId: string) => sv.sign({ sub: tokenId, admin: false, roles: ['r'] });
    const valid = (jwt: string) =>
      sv.verify(jwt).then(
        () => true,
        () => false,
      );
    for (const args of [
      ['revoke'],
      ['rotate'],
      ['update', '--no-admin'],
      ['update', '--role', 'x'],
    ]) {
      const { record } = await pats.issue({ owner: 'o', isAdmin: true, roles: ['r'] });
      const jwt = await mint(record.tokenId);
      clock.advance(3_600_000);
      expect(await valid(jwt), args.join(' ')).toBe(true);
      const [sub, ...rest] = args as [string, ...string[]];
      expect((await run(sub, record.tokenId, ...rest)).code).toBe(0);
      expect(await valid(jwt), args.join(' ')).toBe(false);
    }
    // Adding a role or the admin flag takes nothing away.
    const { record } = await pats.issue({ owner: 'o', roles: ['r'] });
    const jwt = await mint(record.tokenId);
    expect((await run('update', record.tokenId, '--add-role', 'y', '--admin')).code).toBe(0);
    expect(await valid(jwt)).toBe(true);
  });

  it('checks arguments before opening the store, and exits 2 on a mistake', async () => {
    const { run, opened } = setup();
    for (const args of [
      [],
      ['nope'],
      ['issue'],
      ['issue', '--owner', 'o', '--ttl', 'soon'],
      ['issue', '--owner', 'o', '--ttl', '1d', '--expires-at', '2027-01-01'],
      ['issue', '--owner', 'o', '--bogus'],
      ['show'],
      ['update', 'x'],
      ['update', 'x', '--role', 'a', '--add-role', 'b'],
      ['revoke', 'a', 'b'],
      ['list', '--limit', 'ten'],
      ['rotate', 'x', '--overlap', '-5'],
    ]) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).not.toBe('');
    }
    expect(opened()).toBe(0);
    expect((await run('--help')).code).toBe(0);
    expect((await run('issue', '--help')).out).toContain('Usage: tessera tokens');
  });

  it('exits 1 for a missing token and 2 for input the module refuses', async () => {
    const { run } = setup();
    const missing = await run('show', '34NwRzvnBbgI3uedkrQ3Q');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('Token not found: 34NwRzvnBbgI3uedkrQ3Q');
    expect((await run('revoke', '34NwRzvnBbgI3uedkrQ3Q')).code).toBe(1);
    const bad = await run('issue', '--owner', 'x'.repeat(101));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/owner must be/);
    expect((await run('update', 'not-an-id', '--owner', 'x')).code).toBe(2);
  });
});
