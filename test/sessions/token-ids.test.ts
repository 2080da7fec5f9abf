/**
 * Session and transition-token ids are the keys their records live under, so
 * the fast id functions must give exactly the digests the module always
 * stored: SHA-256 without a keyring, the keyring hasher's digest with one.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHmacHasher } from '../../src/core/hashing.js';
import { createKeyring } from '../../src/core/keyring.js';
import { createSessions } from '../../src/sessions/index.js';
import { createIdsOf, sha256Id } from '../../src/sessions/token-ids.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';

const keyring = (activeId: string) =>
  createKeyring({
    keys: [
      { id: 'k1', secret: 'test-secret-k1-0123456789abcdef0123456789abcdef' },
      { id: 'k2', secret: 'test-secret-k2-0123456789abcdef0123456789abcdef' },
      { id: 'k3', secret: 'test-secret-k3-0123456789abcdef0123456789abcdef' },
    ],
    activeId,
  });

const TOKENS = [
  'a'.repeat(22),
  'sess_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG',
  'é日本語🔑'.repeat(8),
  'lone \ud800 surrogate \udfff ok'.repeat(2),
  'x'.repeat(1024),
];

describe('session token ids', () => {
  it('are the SHA-256 of the UTF-8 token, base64url, without a keyring', () => {
    const ids = createIdsOf(undefined, 'session-token');
    for (const t of TOKENS) {
      const expected = createHash('sha256').update(t, 'utf8').digest('base64url');
      expect(sha256Id(t)).toBe(expected);
      expect(ids(t)).toEqual([expected]);
    }
  });

  it('are the keyring hasher digests of [label, token], active key first, with a keyring', () => {
    for (const active of ['k1', 'k2', 'k3']) {
      const k = keyring(active);
      const hasher = createHmacHasher(k, 'sessions');
      for (const label of ['session-token', 'transition-token']) {
        const ids = createIdsOf(k, label);
        for (const t of TOKENS) {
          const got = ids(t);
          expect(got).toEqual(hasher.digestAll([label, t]));
          expect(got[0]).toBe(hasher.digest([label, t], active));
        }
      }
    }
  });

  it('differ between session and transition tokens under a keyring', () => {
    const k = createKeyring({
      keys: [{ id: 'k1', secret: 'test-secret-k1-0123456789abcdef0123456789abcdef' }],
    });
    const t = TOKENS[1]!;
    expect(createIdsOf(k, 'session-token')(t)).toHaveLength(1);
    expect(createIdsOf(k, 'session-token')(t)[0]).not.toBe(
      createIdsOf(k, 'transition-token')(t)[0],
    );
  });

  it('name the session a token validates, after the active key changes', async () => {
    const store = createMemoryStore();
    const before = createSessions({ store, keyring: keyring('k1') });
    const { token, session } = await before.create({ owner: 'alice' });
    expect(session.id).toBe(
      createHmacHasher(keyring('k1'), 'sessions').digest(['session-token', token]),
    );
    const after = createSessions({ store, keyring: keyring('k3') });
    const r = await after.validate(token);
    expect(r.valid && r.session.id).toBe(session.id);
  });
});
