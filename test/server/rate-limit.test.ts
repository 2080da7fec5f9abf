import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/core/clock.js';
import { ipRateKey } from '../../src/server/client-ip.js';
import { call, createHarness } from './helpers.js';

const h = createHarness();
afterEach(() => h.stopAll());
afterAll(() => h.cleanup());

const drainBody = { owner: 'u', action: 'a' };

describe('rate limits kept in the store', () => {
  it('limits each identity, with RateLimit-* headers, 429 and Retry-After, until the window ends', async () => {
    const { svc, admin, clock } = await h.start({ args: ['--rate-limit-identity', '3/60'] });
    const drain = () =>
      call(svc, 'POST', '/v1/action-tokens/drain', { body: drainBody, credential: admin });
    const first = await drain();
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('3');
    expect(first.headers.get('ratelimit-remaining')).toBe('2');
    expect(first.headers.get('ratelimit-reset')).toBe('60');
    expect(first.headers.get('ratelimit-policy')).toBe('3;w=60');
    await drain();
    expect((await drain()).headers.get('ratelimit-remaining')).toBe('0');
    clock.advance(15_000);
    const limited = await drain();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('45');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(limited.body.error.code).toBe('ERR_TESSERA_THROTTLED');

    clock.advance(45_000);
    expect((await drain()).status).toBe(200);
  });

  it('counts failed authentications per IP and then refuses that IP before checking credentials', async () => {
    const { svc, admin, clock } = await h.start({ args: ['--rate-limit-ip', '2/60'] });
    const drain = (cred: string) =>
      call(svc, 'POST', '/v1/action-tokens/drain', { body: drainBody, credential: cred });
    const bad1 = await drain('tsa_bad');
    expect(bad1.status).toBe(401);
    expect(bad1.headers.get('ratelimit-remaining')).toBe('1');
    expect((await drain('tsa_bad')).status).toBe(401);
    const third = await drain('tsa_bad');
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('60');
    // Even the right credential waits now: guessing stops for the window.
    expect((await drain(admin)).status).toBe(429);
    clock.advance(60_000);
    expect((await drain(admin)).status).toBe(200);
  });

  it('holds across instances sharing one store', async () => {
    const dir = h.dataDir();
    const store = ['--store', `sqlite:${join(dir, 'shared.db')}`];
    const clock = createFakeClock(Date.now());
    const a = await h.start({ dir, clock, args: [...store, '--rate-limit-identity', '3/60'] });
    const b = await h.start({ dir, clock, args: [...store, '--rate-limit-identity', '3/60'] });
    const drain = (svc: typeof a.svc) =>
      call(svc, 'POST', '/v1/action-tokens/drain', { body: drainBody, credential: a.admin });
    const statuses = [
      (await drain(a.svc)).status,
      (await drain(b.svc)).status,
      (await drain(a.svc)).status,
      (await drain(b.svc)).status,
      (await drain(a.svc)).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('can be switched off', async () => {
    const { svc, admin } = await h.start({
      args: ['--rate-limit-identity', 'off', '--rate-limit-ip', 'off'],
    });
    const res = await call(svc, 'POST', '/v1/action-tokens/drain', {
      body: drainBody,
      credential: admin,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-limit')).toBeNull();
  });

  it('lifts the token endpoint attempts per IP with --rate-limit-ip off, keeping its failure budget per token', async () => {
    const exchanges = async (args: string[]) => {
      const { svc, admin } = await h.start({ args });
      const pat = await call(svc, 'POST', '/v1/access-tokens', {
        body: { owner: 'svc', roles: ['tessera:action-tokens'] },
        credential: admin,
      });
      expect(pat.status).toBe(201);
      const statuses: number[] = [];
      for (let i = 0; i < 35; i++) {
        statuses.push(
          (await call(svc, 'POST', '/auth/token', { credential: pat.body.token })).status,
        );
      }
      // Wrong secrets for that token's id: the failure budget still refuses the 11th.
      const wrong = `${pat.body.token.slice(0, -8)}AAAAAAAA`;
      const failures: number[] = [];
      for (let i = 0; i < 11; i++) {
        failures.push((await call(svc, 'POST', '/auth/token', { credential: wrong })).status);
      }
      return { statuses, failures };
    };
    const limited = await exchanges([]);
    expect(limited.statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    expect(limited.statuses.slice(30).every((s) => s === 429)).toBe(true);
    const lifted = await exchanges(['--rate-limit-ip', 'off']);
    expect(lifted.statuses.every((s) => s === 200)).toBe(true);
    expect(lifted.failures.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(lifted.failures[10]).toBe(429);
  });
});

describe('client addresses', () => {
  it('limits IPv6 clients per /64 and IPv4-mapped addresses as IPv4', () => {
    expect(ipRateKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(ipRateKey('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(ipRateKey('::1')).toBe('0:0:0:0::/64');
    expect(ipRateKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(ipRateKey('10.1.2.3')).toBe('10.1.2.3');
  });

  it('trusts X-Forwarded-For only with --trust-proxy', async () => {
    const { svc, admin } = await h.start({
      args: ['--rate-limit-ip', '1/60', '--trust-proxy', '1'],
    });
    const drain = (ip: string, cred: string) =>
      call(svc, 'POST', '/v1/action-tokens/drain', {
        body: drainBody,
        credential: cred,
        headers: { 'x-forwarded-for': `198.51.100.7, ${ip}` },
      });
    expect((await drain('203.0.113.1', 'tsa_bad')).status).toBe(401);
    expect((await drain('203.0.113.1', 'tsa_bad')).status).toBe(429);
    expect((await drain('203.0.113.2', admin)).status).toBe(200);
  });
});
