import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateTokenId } from '../../src/access-tokens/format.js';
import { preparePhc } from '../../src/access-tokens/phc.js';
import { createPreparer } from '../../src/access-tokens/prepared.js';
import { MalformedRecordError } from '../../src/core/errors.js';
import { sha256Phc } from '../../src/core/hashing.js';
import type { JsonObject, StoredRecord } from '../../src/stores/contract.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function tokenData(tokenId: string, extra: JsonObject = {}): JsonObject {
  return {
    tokenId,
    owner: 'alice',
    isAdmin: false,
    roles: ['read'],
    secretPhc: sha256Phc(randomBytes(32)),
    format: 'tessera',
    createdAt: 1000,
    lastUsedAt: null,
    revokedAt: null,
    expiresAt: null,
    previousSecretPhc: null,
    previousFormat: null,
    previousSecretExpiresAt: null,
    ...extra,
  };
}

function record(data: JsonObject, version = 1, key = data.tokenId as string): StoredRecord {
  return {
    collection: 'pat',
    key,
    partition: key,
    data,
    expiresAt: null,
    version,
    index: { owner: data.owner as string },
  } as StoredRecord;
}

describe('prepared tokens', () => {
  it('reuse the work for a store that returns the same frozen data, at one key and version', () => {
    const prepare = createPreparer();
    const id = generateTokenId();
    const data = deepFreeze(tokenData(id));
    const first = prepare(record(data, 3));
    expect(first.current.kind).toBe('sha256');
    expect(first.view).toMatchObject({ tokenId: id, owner: 'alice', roles: ['read'] });
    expect(first.valid).toEqual({ valid: true, record: first.view });
    expect(Object.isFrozen(first.valid) && Object.isFrozen(first.view)).toBe(true);
    // A fresh record object around the same frozen data (as the memory store reads).
    expect(prepare(record(data, 3))).toBe(first);
    // Never across versions or keys.
    const next = prepare(record(data, 4));
    expect(next).not.toBe(first);
    expect(next.version).toBe(4);
    const other = generateTokenId();
    expect(() => prepare(record(data, 4, other))).toThrow(MalformedRecordError);
  });

  it('prepare data that is not deeply frozen on every read', () => {
    const prepare = createPreparer();
    const id = generateTokenId();
    const data = tokenData(id);
    const first = prepare(record(data));
    expect(prepare(record(data))).not.toBe(first);
    // Frozen data with mutable roles is not trusted either.
    const rolesOpen = Object.freeze({ ...tokenData(id), roles: ['read'] });
    const a = prepare(record(rolesOpen));
    expect(prepare(record(rolesOpen))).not.toBe(a);
    // The data changed in place: the next read sees the change.
    data.owner = 'bob';
    expect(prepare(record(data)).view.owner).toBe('bob');
  });

  it('refuse a malformed record on every read, never caching it', () => {
    const prepare = createPreparer();
    const data = deepFreeze(tokenData(generateTokenId(), { createdAt: -1 }));
    expect(() => prepare(record(data))).toThrow(MalformedRecordError);
    expect(() => prepare(record(data))).toThrow(MalformedRecordError);
  });

  it('parse the replaced secret while there is one', () => {
    const prepare = createPreparer();
    const previous = sha256Phc(randomBytes(32));
    const data = deepFreeze(
      tokenData(generateTokenId(), {
        previousSecretPhc: previous,
        previousFormat: 'tessera',
        previousSecretExpiresAt: 5000,
      }),
    );
    const t = prepare(record(data));
    expect(t.previous).toEqual(preparePhc(previous));
    expect(t.view.previousSecretExpiresAt).toBe(5000);
  });
});

describe('preparePhc', () => {
  it('keeps the digest of well-formed SHA-256 and HMAC strings, and leaves the rest to the core', () => {
    const secret = randomBytes(32);
    const sha = preparePhc(sha256Phc(secret));
    expect(sha.kind === 'sha256' && sha.hash.length).toBe(32);
    const hmac = preparePhc(
      `$hmac-sha256$k=k1$${Buffer.alloc(32, 7).toString('base64').slice(0, 43)}`,
    );
    expect(hmac).toMatchObject({ kind: 'hmac', keyId: 'k1' });
    const scrypt = '$scrypt$ln=14,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA';
    for (const phc of [
      scrypt,
      `${sha256Phc(secret)}A`, // too long
      `${sha256Phc(secret).slice(0, -1)}B`, // non-zero spare bits
      '$sha256$',
      '$fake',
    ]) {
      expect(preparePhc(phc)).toEqual({ kind: 'core', phc });
    }
  });
});
