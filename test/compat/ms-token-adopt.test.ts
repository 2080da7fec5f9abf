/**
 * Adopting a claimed ms-token challenge through `challenges.import` (no Redis
 * needed): the fields carry over, the secret is hashed, a live Tessera
 * challenge or a lifetime that ran out wins, and settings weaker than Tessera
 * generates from are strengthened for later regenerates only.
 */
import { describe, expect, it } from 'vitest';
import { createChallenges } from '../../src/challenges/index.js';
import { type Claimed, createAdopter } from '../../src/compat/ms-token/legacy/adopt.js';
import type { LegacyChallenge } from '../../src/compat/ms-token/legacy/record.js';
import { createFakeClock } from '../../src/core/clock.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { testKeyring } from '../../src/testing/index.js';

function setup() {
  const store = createMemoryStore();
  const clock = createFakeClock();
  const challenges = createChallenges({ store, keyring: testKeyring(), clock });
  return { store, clock, challenges, adopter: createAdopter(challenges) };
}

function legacy(extra: Partial<LegacyChallenge> = {}): LegacyChallenge {
  return {
    id: 'a@example.com',
    action: 'otp',
    uid: '0b7e6f9c-3f1e-4a55-9d0a-2f3c4b5a6d7e',
    secret: '4821',
    created: '1767225600000',
    settings: { type: 'number', length: 4, encrypt: false },
    metadata: { lang: 'fr' },
    verified: null,
    related: [],
    ...extra,
  };
}

const claimed = (challenge: LegacyChallenge, extra: Partial<Claimed> = {}): Claimed => ({
  challenge,
  secret: challenge.secret,
  pttl: 600_000,
  throttlePttl: 30_000,
  ...extra,
});

describe('ms-token facade: adopting a claimed challenge', () => {
  it('carries every field over and stores the secret only as a digest', async () => {
    const { store, clock, challenges, adopter } = setup();
    const now = clock.now();
    expect(await adopter.adopt(claimed(legacy()), now)).toBe(true);
    const info = await challenges.info({ uid: '0b7e6f9c-3f1e-4a55-9d0a-2f3c4b5a6d7e' });
    expect(info).toMatchObject({
      action: 'otp',
      id: 'a@example.com',
      settings: { type: 'number', length: 4, encrypt: false },
      metadata: { lang: 'fr' },
      createdAt: 1_767_225_600_000,
      expiresAt: now + 600_000,
      regenerate: true,
      verifiedAt: null,
    });
    const dump = JSON.stringify((await store.list('challenge')).records);
    expect(dump).not.toContain('"4821"');
    // The throttle window came along.
    await expect(challenges.create({ action: 'otp', id: 'a@example.com' })).rejects.toMatchObject({
      code: 'ERR_TESSERA_THROTTLED',
      retryAfterSeconds: 30,
    });
    expect(
      (await challenges.verify({ action: 'otp', id: 'a@example.com', token: '4821' })).id,
    ).toBe('a@example.com');
  });

  it('leaves a live Tessera challenge alone, and adopts nothing whose lifetime ran out', async () => {
    const { clock, challenges, adopter } = setup();
    const mine = await challenges.create({ action: 'otp', id: 'a@example.com' });
    expect(await adopter.adopt(claimed(legacy()), clock.now())).toBe(false);
    expect((await challenges.verify(mine.secret ?? '')).id).toBe('a@example.com');
    // ms-token gave a remaining lifetime, and the facade's clock has moved past it.
    const at = clock.now();
    clock.advance(5);
    expect(await adopter.adopt(claimed(legacy(), { pttl: 1 }), at)).toBe(false);
    await expect(challenges.info({ action: 'otp', id: 'a@example.com' })).rejects.toMatchObject({
      code: 'ERR_TESSERA_NOT_FOUND',
    });
  });

  it('strengthens weak ms-token settings for regenerate, keeping the secret the user holds', async () => {
    const { clock, challenges, adopter } = setup();
    const weak = legacy({
      secret: 'ABAB',
      settings: { type: 'alphabet', alphabet: 'ABBA', length: 4, encrypt: false },
    });
    expect(await adopter.adopt(claimed(weak, { throttlePttl: -2 }), clock.now())).toBe(true);
    const info = await challenges.info({ action: 'otp', id: 'a@example.com' });
    // 2 characters need 14 of them for 10^4 values.
    expect(info.settings).toEqual({ type: 'alphabet', alphabet: 'AB', length: 14, encrypt: false });
    const next = await challenges.regenerate({ action: 'otp', id: 'a@example.com' });
    expect(next.secret).toMatch(/^[AB]{14}$/);

    const single = legacy({
      id: 'b@example.com',
      uid: null,
      secret: 'ZZZZZ',
      settings: { type: 'alphabet', alphabet: 'Z', length: 5, encrypt: false },
    });
    expect(await adopter.adopt(claimed(single), clock.now())).toBe(true);
    const b = await challenges.info({ action: 'otp', id: 'b@example.com' });
    expect(b.settings).toEqual({ type: 'number', length: 5, encrypt: false });
    expect(
      (await challenges.verify({ action: 'otp', id: 'b@example.com', token: 'ZZZZZ' })).id,
    ).toBe('b@example.com');
  });

  it('adopts a challenge without a secret, and one that never expires', async () => {
    const { clock, challenges, adopter } = setup();
    const none = legacy({ uid: null, secret: '', settings: false, metadata: undefined as never });
    expect(await adopter.adopt(claimed(none, { pttl: -1 }), clock.now())).toBe(true);
    const info = await challenges.info({ action: 'otp', id: 'a@example.com' });
    expect(info).toMatchObject({ settings: false, expiresAt: null, ttl: 'never' });
    expect(info.metadata).toBeUndefined();
    expect((await challenges.verify({ action: 'otp', id: 'a@example.com' })).id).toBe(
      'a@example.com',
    );
  });
});
