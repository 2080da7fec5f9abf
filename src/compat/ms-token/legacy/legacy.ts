/**
 * The challenges ms-token 5 left in Redis, read and completed by the facade
 * while its users migrate: a lookup that finds no Tessera challenge falls
 * back to ms-token's keys (see `layout.ts`).
 *
 * What it keeps of ms-token: the answers (`'404'`, `'409'`, `'429'` with
 * `reason.ttl`), `isFirstVerification`, and an erasing verification that
 * deletes the challenge, every copy of it and its throttle window in one
 * atomic step. What it does not copy:
 * - a challenge that must change otherwise (a non-erasing verification, a
 *   wrong secret that must be charged to the attempt budget, `regenerate`)
 *   is first claimed (in one script its keys are deleted, so only one caller
 *   can claim it, and a marker without the secret takes the place of the
 *   challenge and uid keys) and moved into a Tessera challenge, where the
 *   secret is stored only as an HMAC digest; then the markers go, and the
 *   caller repeats the operation there. A concurrent lookup that meets a
 *   marker waits for the move instead of answering `'404'`. A crash between
 *   the claim and the write loses the challenge (it fails closed: the markers
 *   expire after 30 s and the user asks for a new one);
 * - it never writes a key named after a secret, and never revives keys that
 *   ms-token's `regenerate` left behind (every lookup starts at `action!id`
 *   or the uid, and the secret is compared in constant time);
 * - challenges without a secret verify with action and id, and can be removed.
 * @module
 */
import { randomId62 } from '../../../core/random.js';
import type { Adopter } from './adopt.js';
import type { LegacyLayout } from './layout.js';
import {
  callerSecret,
  isMoving,
  type LegacyChallenge,
  legacySecretMatches,
  readLegacy,
  targetOf,
} from './record.js';
import { type LegacyClient, type LegacyTarget, runLegacyScript } from './script.js';

/** How many times a step re-reads a challenge that changed under it. */
const MAX_LOOPS = 3;

/** A lookup by uid or by action and id. */
export type LegacyLookup =
  | { readonly uid: string }
  | { readonly action: string; readonly id: string };

/** What an attempt with a secret (or none) wants done once the secret matches. */
export type LegacyAttemptMode = 'verify' | 'verify-keep' | 'info' | 'remove';

/** The outcome of a legacy step. */
export type LegacyStep =
  /** No ms-token challenge there. */
  | { readonly kind: 'miss' }
  /** The challenge has a secret and none was presented. */
  | { readonly kind: 'secret_required' }
  /** Done on the ms-token challenge (`first`: set by an erasing verification). */
  | { readonly kind: 'done'; readonly challenge: LegacyChallenge; readonly first?: boolean }
  /**
   * Moved into a Tessera challenge (or superseded by one), here or by a
   * concurrent caller (then `moving` while it is under way): repeat the
   * operation there.
   */
  | { readonly kind: 'adopted' | 'moving' }
  /** It changed between the read and the write (ms-token's `'409'`). */
  | { readonly kind: 'changed' };

/** What a lookup found. */
export type LegacyFound = LegacyChallenge | 'moving' | null;

/** The legacy operations of one facade. */
export interface Legacy {
  /** The challenge a lookup names, `'moving'` while it moves to Tessera, or `null`. */
  find(lookup: LegacyLookup): Promise<LegacyFound>;
  /**
   * An attempt at (action, id) with a presented secret (or none, for a
   * challenge without one): on a match, `verify` consumes the challenge,
   * `info` reads it, `remove` deletes it; anything else moves it to Tessera.
   */
  attempt(
    input: { action: string; id: string; token: string | undefined },
    mode: LegacyAttemptMode,
    now: number,
  ): Promise<LegacyStep>;
  /** Delete the challenge a lookup names and its throttle window. */
  remove(lookup: LegacyLookup, now: number): Promise<LegacyStep>;
  /**
   * Move a regenerable challenge to Tessera for `regenerate`: `adopted` (then
   * regenerate it by its uid), `miss` (none, or not regenerable), `moving` or
   * `changed`.
   */
  claimForRegenerate(lookup: LegacyLookup, now: number): Promise<LegacyStep & { uid?: string }>;
  /**
   * Before a `create`: refuse while ms-token's throttle window for (action, id)
   * is open (resolves to its ttl in seconds), else delete any ms-token
   * challenge there (resolves to `null`).
   */
  clearForCreate(action: string, id: string, now: number): Promise<number | null>;
}

/** What the legacy operations need. */
export interface LegacyOptions {
  readonly client: LegacyClient;
  readonly layout: LegacyLayout;
  readonly adopter: Adopter;
  /** The secret inside an ms-token `v1` token, or `undefined` when it is not one. */
  readonly open: (token: string) => string | undefined;
}

/**
 * The legacy operations over an ioredis connection.
 * @example `const legacy = createLegacy({ client, layout: legacyLayout(prefix), adopter, open });`
 */
export function createLegacy(options: LegacyOptions): Legacy {
  const { client, layout, adopter, open } = options;

  async function read(key: string): Promise<LegacyFound> {
    const hash = await client.hgetall(key);
    return isMoving(hash) ? 'moving' : readLegacy(hash);
  }

  function find(lookup: LegacyLookup): Promise<LegacyFound> {
    return read(
      'uid' in lookup ? layout.uidKey(lookup.uid) : layout.idKey(lookup.action, lookup.id),
    );
  }

  /** Claim `c` (its keys become markers) and write it as a Tessera challenge. */
  async function move(c: LegacyChallenge, now: number): Promise<LegacyStep> {
    const target = targetOf(layout, c);
    const marker = randomId62(16);
    const r = await runLegacyScript(client, 'claim', target, now, marker);
    if (r.status !== 'ok') return { kind: 'changed' };
    const claimed = readLegacy(r.hash) ?? c;
    await adopter.adopt(
      {
        challenge: claimed,
        secret: callerSecret(claimed, open),
        pttl: r.pttl,
        throttlePttl: r.throttlePttl,
      },
      now,
    );
    await runLegacyScript(client, 'finish', { ...target, others: [] }, now, marker);
    return { kind: 'adopted' };
  }

  async function attemptOnce(
    input: { action: string; id: string; token: string | undefined },
    mode: LegacyAttemptMode,
    now: number,
  ): Promise<LegacyStep> {
    const c = await read(layout.idKey(input.action, input.id));
    if (c === null) return { kind: 'miss' };
    if (c === 'moving') return { kind: 'moving' };
    let matches: boolean;
    if (input.token === undefined) {
      if (c.secret !== '') return { kind: 'secret_required' };
      matches = true;
    } else {
      // ms-token looks the secret key up: a token for a challenge without a secret finds nothing.
      if (c.secret === '') return { kind: 'miss' };
      matches = legacySecretMatches(c, input.token, open);
    }
    // A wrong secret is charged to the attempt budget, which lives in Tessera.
    if (!matches || mode === 'verify-keep') return move(c, now);
    if (mode === 'info') return { kind: 'done', challenge: c };
    const r = await runLegacyScript(
      client,
      mode === 'verify' ? 'consume' : 'delete',
      targetOf(layout, c),
      now,
    );
    if (r.status !== 'ok') return { kind: 'changed' };
    if (mode !== 'verify') return { kind: 'done', challenge: c };
    return { kind: 'done', challenge: readLegacy(r.hash) ?? c, first: r.first };
  }

  async function attempt(
    input: { action: string; id: string; token: string | undefined },
    mode: LegacyAttemptMode,
    now: number,
  ): Promise<LegacyStep> {
    let step: LegacyStep = { kind: 'changed' };
    for (let loop = 0; loop < MAX_LOOPS && step.kind === 'changed'; loop++) {
      step = await attemptOnce(input, mode, now);
    }
    return step;
  }

  async function remove(lookup: LegacyLookup, now: number): Promise<LegacyStep> {
    const c = await find(lookup);
    if (c === null) return { kind: 'miss' };
    if (c === 'moving') return { kind: 'moving' };
    // As ms-token: the challenge changed between the read and the delete → '409'.
    const r = await runLegacyScript(client, 'delete', targetOf(layout, c), now);
    return r.status === 'ok' ? { kind: 'done', challenge: c } : { kind: 'changed' };
  }

  async function claimForRegenerate(
    lookup: LegacyLookup,
    now: number,
  ): Promise<LegacyStep & { uid?: string }> {
    const c = await find(lookup);
    if (c === 'moving') return { kind: 'moving' };
    if (c === null || c.uid === null || c.secret === '') return { kind: 'miss' };
    const step = await move(c, now);
    return step.kind === 'adopted' ? { kind: 'adopted', uid: c.uid } : step;
  }

  async function clearForCreate(action: string, id: string, now: number): Promise<number | null> {
    const idKey = layout.idKey(action, id);
    const throttleKey = layout.throttleKey(action, id);
    const none: LegacyTarget = {
      idKey,
      throttleKey,
      uidKey: null,
      others: [],
      secret: '',
      created: '',
    };
    let target = none;
    for (let loop = 0; loop <= MAX_LOOPS; loop++) {
      const r = await runLegacyScript(client, 'clear', target, now);
      if (r.status === 'throttled') return r.ttl;
      if (r.status === 'ok') return null;
      const c = await read(idKey);
      // A challenge being moved to Tessera is replaced there by this create.
      target = c === null || c === 'moving' ? none : targetOf(layout, c);
    }
    throw Object.assign(new Error('409'), { cause: 'the ms-token challenge kept changing' });
  }

  return Object.freeze({ find, attempt, remove, claimForRegenerate, clearForCreate });
}
