import { describe, expect, it } from 'vitest';
import { createSealer, MAX_SEALED_TOKEN_LENGTH } from '../../src/core/aead.js';
import { SealInvalidError } from '../../src/core/errors.js';
import { createKeyring } from '../../src/core/keyring.js';

const k1 = { id: 'k1', secret: Buffer.alloc(32, 1) };
const k2 = { id: 'k2', secret: Buffer.alloc(32, 2) };
const keyring = createKeyring({ keys: [k1] });

function expectInvalid(fn: () => unknown) {
  expect(fn).toThrow(SealInvalidError);
  try {
    fn();
  } catch (err) {
    expect((err as SealInvalidError).code).toBe('ERR_TESSERA_SEAL_INVALID');
  }
}

describe('createSealer', () => {
  it('seals into v1.<keyId>.<base64url> and opens back to the plaintext', () => {
    const sealer = createSealer({ keyring });
    const token = sealer.seal('{"sub":"u1"}', 'login');
    expect(token).toMatch(/^v1\.k1\.[A-Za-z0-9_-]+$/);
    // 12-byte IV + 12 bytes of plaintext + 16-byte tag = 40 bytes
    expect(Buffer.from(token.split('.')[2]!, 'base64url').length).toBe(40);
    expect(sealer.openString(token, 'login')).toBe('{"sub":"u1"}');
    expect(sealer.open(token, 'login')).toEqual(Buffer.from('{"sub":"u1"}'));
  });

  it('uses a fresh IV each time', () => {
    const sealer = createSealer({ keyring });
    expect(sealer.seal('same')).not.toBe(sealer.seal('same'));
  });

  it('seals and opens bytes, including an empty plaintext', () => {
    const sealer = createSealer({ keyring });
    expect(sealer.open(sealer.seal(Uint8Array.of(0, 255)))).toEqual(Buffer.from([0, 255]));
    expect(sealer.open(sealer.seal(''))).toEqual(Buffer.alloc(0));
  });

  it('opens a token sealed under a key that was rotated out but is still listed', () => {
    const token = createSealer({ keyring }).seal('payload');
    const rotated = createKeyring({ keys: [k2, k1] });
    const sealer = createSealer({ keyring: rotated });
    expect(sealer.seal('x')).toMatch(/^v1\.k2\./);
    expect(sealer.openString(token)).toBe('payload');
  });

  it('rejects a token whose key id is no longer listed', () => {
    const token = createSealer({ keyring }).seal('payload');
    const sealer = createSealer({ keyring: createKeyring({ keys: [k2] }) });
    expectInvalid(() => sealer.open(token));
  });

  it('rejects a token when any byte of the body is flipped', () => {
    const sealer = createSealer({ keyring });
    const token = sealer.seal('tamper me', 'ctx');
    const [header, body] = [token.slice(0, 'v1.k1.'.length), token.slice('v1.k1.'.length)];
    const bytes = Buffer.from(body, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const copy = Buffer.from(bytes);
      copy[i]! ^= 0x01;
      expectInvalid(() => sealer.open(header + copy.toString('base64url'), 'ctx'));
    }
  });

  it('rejects a token moved to another key id, version or purpose', () => {
    const both = createKeyring({ keys: [k1, { id: 'k1b', secret: k1.secret }] });
    const sealer = createSealer({ keyring: both });
    const token = sealer.seal('x');
    // Same secret under another id: the header is authenticated, so it still fails.
    expectInvalid(() => sealer.open(token.replace(/^v1\.k1\./, 'v1.k1b.')));
    expectInvalid(() => sealer.open(token.replace(/^v1\./, 'v2.')));
    expectInvalid(() => createSealer({ keyring: both, purpose: 'other' }).open(token));
  });

  it('rejects the wrong associated data, and treats a missing aad as empty', () => {
    const sealer = createSealer({ keyring });
    const token = sealer.seal('x', 'user-1');
    expectInvalid(() => sealer.open(token, 'user-2'));
    expectInvalid(() => sealer.open(token));
    expect(sealer.openString(sealer.seal('y'), '')).toBe('y');
  });

  it('rejects non-canonical base64url in the body', () => {
    const sealer = createSealer({ keyring });
    const token = sealer.seal('abc'); // 31 bytes: last char carries unused bits
    const body = token.slice('v1.k1.'.length);
    expect(body.length % 4).not.toBe(0);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(body.at(-1)!);
    const sibling = alphabet[last ^ 1]!;
    const variant = `v1.k1.${body.slice(0, -1)}${sibling}`;
    expect(Buffer.from(variant.slice(6), 'base64url')).toEqual(Buffer.from(body, 'base64url'));
    expectInvalid(() => sealer.open(variant));
    expectInvalid(() => sealer.open(`${token}=`));
  });

  it('rejects malformed tokens with SealInvalidError, never a raw error', () => {
    const sealer = createSealer({ keyring });
    const bad = [
      '',
      'v1',
      'v1.k1',
      'v1.k1.',
      'v1.k1.AAAA',
      'v1..AAAA',
      'v1.k1.a.b',
      'v1.bad id.AAAA',
      `v1.k1.${'A'.repeat(MAX_SEALED_TOKEN_LENGTH)}`,
      42 as unknown as string,
    ];
    for (const token of bad) expectInvalid(() => sealer.open(token));
  });

  it('rejects a body that is not valid UTF-8 in openString', () => {
    const sealer = createSealer({ keyring });
    const token = sealer.seal(Uint8Array.of(0xff, 0xfe));
    expect(sealer.open(token)).toEqual(Buffer.from([0xff, 0xfe]));
    expectInvalid(() => sealer.openString(token));
  });

  it('refuses to seal a plaintext whose token would exceed 64 KiB', () => {
    const sealer = createSealer({ keyring });
    expect(() => sealer.seal(Buffer.alloc(64 * 1024))).toThrow(RangeError);
    const fits = sealer.seal(Buffer.alloc(40_000));
    expect(fits.length).toBeLessThanOrEqual(MAX_SEALED_TOKEN_LENGTH);
    expect(sealer.open(fits).length).toBe(40_000);
  });

  it('rejects bad options', () => {
    expect(() => createSealer({ keyring: undefined as never })).toThrow(TypeError);
    expect(() => createSealer({ keyring, purpose: '' })).toThrow(TypeError);
  });
});
