import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyNotFoundError } from '../../src/core/errors.js';
import { createKeyring, generateServerSecret } from '../../src/core/keyring.js';

const secretA = Buffer.alloc(32, 1);
const secretB = Buffer.alloc(32, 2);

describe('createKeyring', () => {
  it('makes the first key active by default and lists ids in order', () => {
    const keyring = createKeyring({
      keys: [
        { id: 'new', secret: secretA },
        { id: 'old', secret: secretB },
      ],
    });
    expect(keyring.activeId).toBe('new');
    expect(keyring.ids).toEqual(['new', 'old']);
    expect(Object.isFrozen(keyring)).toBe(true);
    expect(Object.isFrozen(keyring.ids)).toBe(true);
  });

  it('honours an explicit activeId', () => {
    const keyring = createKeyring({
      keys: [
        { id: 'a', secret: secretA },
        { id: 'b', secret: secretB },
      ],
      activeId: 'b',
    });
    expect(keyring.activeId).toBe('b');
  });

  it('does not expose the secrets through the object or JSON', () => {
    const keyring = createKeyring({ keys: [{ id: 'a', secret: 'x'.repeat(40) }] });
    expect(JSON.stringify(keyring)).not.toContain('xxxx');
    expect(Object.keys(keyring).sort()).toEqual(['activeId', 'deriveKey', 'ids']);
  });

  it('rejects constructor mistakes with TypeError or RangeError', () => {
    expect(() => createKeyring(undefined as never)).toThrow(TypeError);
    expect(() => createKeyring({ keys: 'k' as never })).toThrow(TypeError);
    expect(() => createKeyring({ keys: [] })).toThrow(RangeError);
    expect(() => createKeyring({ keys: [{ id: 'bad id', secret: secretA }] })).toThrow(RangeError);
    expect(() => createKeyring({ keys: [{ id: 'x'.repeat(33), secret: secretA }] })).toThrow(
      RangeError,
    );
    expect(() => createKeyring({ keys: [{ id: 7 as never, secret: secretA }] })).toThrow(TypeError);
    expect(() =>
      createKeyring({
        keys: [
          { id: 'a', secret: secretA },
          { id: 'a', secret: secretB },
        ],
      }),
    ).toThrow(RangeError);
    expect(() => createKeyring({ keys: [{ id: 'a', secret: Buffer.alloc(31) }] })).toThrow(
      RangeError,
    );
    expect(() => createKeyring({ keys: [{ id: 'a', secret: 'short passphrase' }] })).toThrow(
      RangeError,
    );
    expect(() => createKeyring({ keys: [{ id: 'a', secret: 42 as never }] })).toThrow(TypeError);
    expect(() => createKeyring({ keys: [{ id: 'a', secret: secretA }], activeId: 'b' })).toThrow(
      RangeError,
    );
  });
});

describe('secret strings', () => {
  it('decodes a canonical base64url secret of >= 32 bytes', () => {
    const text = secretA.toString('base64url');
    const fromText = createKeyring({ keys: [{ id: 'k', secret: text }] });
    const fromBytes = createKeyring({ keys: [{ id: 'k', secret: secretA }] });
    expect(fromText.deriveKey('p').equals(fromBytes.deriveKey('p'))).toBe(true);
  });

  it('uses any other string as its UTF-8 bytes', () => {
    const phrase = 'correct horse battery staple, and then some more!';
    const fromText = createKeyring({ keys: [{ id: 'k', secret: phrase }] });
    const fromBytes = createKeyring({ keys: [{ id: 'k', secret: Buffer.from(phrase) }] });
    expect(fromText.deriveKey('p').equals(fromBytes.deriveKey('p'))).toBe(true);
  });
});

describe('deriveKey', () => {
  const keyring = createKeyring({
    keys: [
      { id: 'a', secret: secretA },
      { id: 'b', secret: secretB },
    ],
  });

  it('is HKDF-SHA256 with salt "tessera" and info = purpose, 32 bytes', () => {
    const expected = Buffer.from(hkdfSync('sha256', secretA, 'tessera', 'seal', 32));
    expect(keyring.deriveKey('seal')).toEqual(expected);
    expect(keyring.deriveKey('seal', 'a')).toEqual(expected);
  });

  it('separates purposes and key ids', () => {
    expect(keyring.deriveKey('seal').equals(keyring.deriveKey('hash'))).toBe(false);
    expect(keyring.deriveKey('seal', 'a').equals(keyring.deriveKey('seal', 'b'))).toBe(false);
  });

  it('returns a copy, so callers cannot corrupt the cache', () => {
    const first = keyring.deriveKey('seal');
    first.fill(0);
    expect(keyring.deriveKey('seal').equals(Buffer.alloc(32))).toBe(false);
  });

  it('throws KeyNotFoundError for an unknown key id', () => {
    expect(() => keyring.deriveKey('seal', 'zzz')).toThrow(KeyNotFoundError);
    try {
      keyring.deriveKey('seal', 'zzz');
    } catch (err) {
      expect((err as KeyNotFoundError).code).toBe('ERR_TESSERA_KEY_NOT_FOUND');
    }
  });

  it('rejects an empty purpose', () => {
    expect(() => keyring.deriveKey('')).toThrow(TypeError);
  });
});

describe('generateServerSecret', () => {
  it('returns 32 random bytes as 43 base64url characters that a keyring decodes', () => {
    const secret = generateServerSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateServerSecret()).not.toBe(secret);
    const viaText = createKeyring({ keys: [{ id: 'k', secret }] });
    const viaBytes = createKeyring({
      keys: [{ id: 'k', secret: Buffer.from(secret, 'base64url') }],
    });
    expect(viaText.deriveKey('x')).toEqual(viaBytes.deriveKey('x'));
  });
});
