import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { phcProblem } from '../../src/access-tokens/index.js';
import { createSecretHasher } from '../../src/access-tokens/phc.js';
import { createHmacHasher, sha256Phc, verifyPhc } from '../../src/core/hashing.js';
import { seedScryptPhc } from '../../src/testing/access-tokens-suite.js';
import { testKeyring } from '../../src/testing/action-tokens-suite.js';

const b64 = (n: number) => randomBytes(n).toString('base64').replace(/=+$/, '');
const keyring = testKeyring();
const hmac = createHmacHasher(keyring, 'access-tokens');

/** [phc, what phcProblem must say] — checked against the core's verifyPhc too. */
const CASES: Array<[unknown, string | undefined]> = [
  [sha256Phc('x'), undefined],
  [hmac.hash('x'), undefined],
  [seedScryptPhc(Buffer.from('x'), 4), undefined],
  [`$scrypt$ln=4,r=8,p=1$${b64(8)}$${b64(16)}`, undefined],
  [`$sha256$${b64(31)}`, 'invalid_parameters'],
  [`$sha256$v=1$${b64(32)}`, 'invalid_parameters'],
  [`$sha256$a=1$${b64(32)}`, 'invalid_parameters'],
  [`$sha256$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$hmac-sha256$k=k9$${b64(32)}`, 'invalid_parameters'],
  [`$hmac-sha256$k=k1,x=1$${b64(32)}`, 'invalid_parameters'],
  [`$hmac-sha256$${b64(32)}`, 'invalid_parameters'],
  [`$hmac-sha256$k=k1$${b64(16)}`, 'invalid_parameters'],
  [`$scrypt$ln=21,r=8,p=1$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=0,r=8,p=1$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=4,r=33,p=1$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=4,r=8,p=17$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=17,r=32,p=1$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=17,r=16,p=16$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=15,r=9,p=1$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=14,r=9,p=8$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=16,r=1,p=1$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=04,r=8,p=1$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=4,r=8$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=4,r=8,p=1,x=2$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$v=1$ln=4,r=8,p=1$${b64(16)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=4,r=8,p=1$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=4,r=8,p=1$${b64(7)}$${b64(32)}`, 'invalid_parameters'],
  [`$scrypt$ln=4,r=8,p=1$${b64(16)}$${b64(15)}`, 'invalid_parameters'],
  [`$scrypt$ln=4,r=8,p=1$${b64(16)}$${b64(65)}`, 'invalid_parameters'],
  [`$argon2id$v=19$m=65536,t=3,p=4$${b64(16)}$${b64(32)}`, 'unsupported_algorithm'],
  ['$md5$eHl6', 'unsupported_algorithm'],
  ['$fake', 'invalid_phc'],
  ['', 'invalid_phc'],
  ['sha256$abc', 'invalid_phc'],
  [`$scrypt$ln=4,r=8,p=1$${b64(16)}=$${b64(32)}`, 'invalid_phc'],
  [`$sha256$${'A'.repeat(1100)}`, 'invalid_phc'],
  [42, 'invalid_phc'],
];

describe('phcProblem', () => {
  it.each(CASES.map(([phc, want]) => [String(phc).slice(0, 40), phc, want] as const))(
    'judges %s as the core verifier does',
    async (_label, phc, want) => {
      expect(phcProblem(phc, keyring)).toBe(want);
      const r = await verifyPhc('wrong secret', phc as string, {
        keyring,
        purpose: 'access-tokens',
      });
      expect(r.valid).toBe(false);
      expect(r.valid === false && r.reason).toBe(want ?? 'invalid_secret');
    },
  );

  it('needs a keyring naming the key of an HMAC string', () => {
    expect(phcProblem(hmac.hash('x'), undefined)).toBe('invalid_parameters');
    expect(phcProblem(hmac.hash('x'), testKeyring('k2'))).toBeUndefined();
  });
});

describe('the fast path of SHA-256 and HMAC hashes', () => {
  const hasher = createSecretHasher('sha256', keyring);
  const secret = Buffer.from('the secret');
  const hashes = [
    sha256Phc(secret),
    hmac.hash(secret),
    createHmacHasher(testKeyring('k2'), 'access-tokens').hash(secret),
    createHmacHasher(keyring, 'another-purpose').hash(secret),
    `$sha256$${b64(32).slice(0, -1)}B`,
    ...CASES.map(([phc]) => phc).filter((phc): phc is string => typeof phc === 'string'),
  ];

  it.each(hashes.map((phc) => [phc.slice(0, 40), phc]))(
    "gives the core verifier's outcome for %s",
    async (_label, phc) => {
      for (const candidate of [secret, Buffer.from('wrong')]) {
        const fast = await hasher.verify(candidate, phc);
        const core = await verifyPhc(candidate, phc, { keyring, purpose: 'access-tokens' });
        expect({ valid: fast.valid, reason: fast.valid ? undefined : fast.reason }).toEqual({
          valid: core.valid,
          reason: core.valid ? undefined : core.reason,
        });
      }
    },
  );

  it('accepts a precomputed SHA-256 of the secret', async () => {
    const digest = createHash('sha256').update(secret).digest();
    expect((await hasher.verify(secret, sha256Phc(secret), digest)).valid).toBe(true);
  });
});
