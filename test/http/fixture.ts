/**
 * The fixture every framework test starts from: a fresh memory store, the
 * `DynamoDBPat` compat facade (seed token format, scrypt at a test cost), a
 * signer/verifier with a denylist, a few tokens, and the options of every
 * router the servers mount. Each framework file builds the same app from
 * `mountOptions(fx)` and `MOUNTS`.
 */
import { DynamoDBPat } from '../../src/compat/access-tokens/index.js';
import { createKeyring, generateServerSecret } from '../../src/core/keyring.js';
import type {
  AdminHandlerOptions,
  AuthHandlerOptions,
  GuardOptions,
} from '../../src/http/types.js';
import {
  buildSignerVerifier,
  generateKeySet,
  type JwtSignerVerifier,
} from '../../src/jwt/index.js';
import type { Store } from '../../src/stores/contract.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';

/** Where each router is mounted. */
export const MOUNTS = {
  /** seed style, default throttling */
  auth: '/auth',
  /** RFC 6749 style */
  oauth: '/oauth',
  /** seed style, tight throttling (3 per IP, 2 failures per id) */
  tight: '/tight',
  /** RFC 6749 style, tight per-IP throttling */
  tightOauth: '/tight-oauth',
  /** RFC 9068 at+jwt profile, RFC 6749 style */
  at: '/at',
  admin: '/admin',
} as const;

export const ISSUER = 'https://auth.test';
export const AUDIENCE = 'https://api.test';

const keySet = await generateKeySet('test-key-1');

export interface Fixture {
  readonly store: Store;
  readonly pat: DynamoDBPat;
  readonly sv: JwtSignerVerifier;
  readonly atSv: JwtSignerVerifier;
  /** Signs tokens that are expired at once (ttl 0), with the same key. */
  readonly expiredSv: JwtSignerVerifier;
  readonly adminPat: string;
  readonly adminId: string;
  readonly userPat: string;
  readonly userId: string;
  /** A token whose secret contains a `+` (seed base64). */
  readonly plusPat: string;
  readonly plusId: string;
  readonly revokedPat: string;
  readonly revokedId: string;
  readonly adminJwt: string;
  readonly userJwt: string;
  /** Values captured by one step for the next. */
  readonly vars: Record<string, string>;
}

/** A fresh fixture. */
export async function createFixture(): Promise<Fixture> {
  const store = createMemoryStore();
  const keyring = createKeyring({ keys: [{ id: 'k1', secret: generateServerSecret() }] });
  const pat = new DynamoDBPat({ store, keyring, scryptOptions: { cost: 1024 } });
  const sv = await buildSignerVerifier({ keySet, issuer: ISSUER, ttl: '10m', store });
  const atSv = await buildSignerVerifier({
    keySet,
    issuer: ISSUER,
    ttl: '10m',
    store,
    profile: 'at+jwt',
    audience: AUDIENCE,
  });
  const expiredSv = await buildSignerVerifier({ keySet, issuer: ISSUER, ttl: 0 });
  const admin = await pat.issue({ owner: 'root@example.com', isAdmin: true });
  const user = await pat.issue({ owner: 'user@example.com', roles: ['reader', 'editor'] });
  let plus = await pat.generate();
  while (!plus.token.includes('+')) plus = await pat.generate();
  await pat.register({
    tokenId: plus.tokenId,
    secretPhc: plus.secretPhc,
    owner: 'plus@example.com',
  });
  const revoked = await pat.issue({ owner: 'gone@example.com' });
  await pat.revoke(revoked.record.tokenId);
  return {
    store,
    pat,
    sv,
    atSv,
    expiredSv,
    adminPat: admin.token,
    adminId: admin.record.tokenId,
    userPat: user.token,
    userId: user.record.tokenId,
    plusPat: plus.token,
    plusId: plus.tokenId,
    revokedPat: revoked.token,
    revokedId: revoked.record.tokenId,
    adminJwt: await sv.sign({
      sub: admin.record.tokenId,
      owner: 'root@example.com',
      admin: true,
      roles: [],
    }),
    userJwt: await sv.sign({
      sub: user.record.tokenId,
      owner: 'user@example.com',
      admin: false,
      roles: ['reader', 'editor'],
    }),
    vars: {},
  };
}

/** The options of every router and guard, by mount name. */
export function mountOptions(fx: Fixture): {
  auth: AuthHandlerOptions;
  oauth: AuthHandlerOptions;
  tight: AuthHandlerOptions;
  tightOauth: AuthHandlerOptions;
  at: AuthHandlerOptions;
  admin: AdminHandlerOptions;
  guard: GuardOptions;
} {
  const common = { pat: fx.pat, signerVerifier: fx.sv };
  return {
    auth: { ...common, throttle: { store: fx.store } },
    oauth: {
      ...common,
      style: 'oauth',
      throttle: { store: fx.store, collection: 'oauth-throttle' },
    },
    tight: {
      ...common,
      throttle: {
        store: fx.store,
        collection: 'tight-throttle',
        perIp: { limit: 3, windowSeconds: 60 },
        perTokenId: { limit: 2, windowSeconds: 60 },
      },
    },
    tightOauth: {
      ...common,
      style: 'oauth',
      throttle: {
        store: fx.store,
        collection: 'tight-oauth',
        perIp: { limit: 3, windowSeconds: 60 },
        perTokenId: false,
      },
    },
    at: { pat: fx.pat, signerVerifier: fx.atSv, style: 'oauth' },
    admin: common,
    guard: { signerVerifier: fx.sv },
  };
}

/** A running server. */
export interface Running {
  readonly url: string;
  close(): Promise<void>;
}
