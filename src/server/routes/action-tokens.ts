/**
 * `/v1/action-tokens`: create, use, peek and drain over HTTP. Every route
 * takes a JSON body (owners and actions can hold any characters, so they stay
 * out of the path) and answers JSON.
 * @module
 */
import type { Hono } from 'hono';
import type {
  ActionToken,
  ActionTokens,
  CreateInput,
  UseInput,
} from '../../action-tokens/index.js';
import { readJsonBody } from '../json-body.js';

function tokenJson(t: ActionToken) {
  return {
    owner: t.owner,
    action: t.action,
    remainingUses: t.remainingUses,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lookup: t.lookup,
    ...(t.data === undefined ? {} : { data: t.data }),
  };
}

const CREATE_FIELDS = [
  'owner',
  'action',
  'value',
  'generate',
  'remainingUses',
  'ttlSeconds',
  'expiresAt',
  'data',
  'overwrite',
  'lookup',
  'throttle',
] as const;

/** Mount the action-token routes on `app` (behind the admin guard). */
export function mountActionTokenRoutes(app: Hono, tokens: ActionTokens): void {
  app.post('/v1/action-tokens', async (c) => {
    const body = await readJsonBody(c, CREATE_FIELDS);
    const { token, value } = await tokens.create(body as unknown as CreateInput);
    c.header('cache-control', 'no-store');
    return c.json({ token: tokenJson(token), value }, 201);
  });

  app.post('/v1/action-tokens/use', async (c) => {
    const body = await readJsonBody(c, ['owner', 'action', 'value', 'drainWhenValid']);
    const r = await tokens.tryUse(body as unknown as UseInput);
    if (r.valid) return c.json({ valid: true, token: tokenJson(r.token) });
    if (r.retryAfterSeconds !== undefined) c.header('retry-after', String(r.retryAfterSeconds));
    return c.json({
      valid: false,
      reason: r.reason,
      ...(r.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: r.retryAfterSeconds }),
    });
  });

  app.post('/v1/action-tokens/peek', async (c) => {
    const body = await readJsonBody(c, ['owner', 'action']);
    const token = await tokens.peek(body as { owner: string; action: string });
    return c.json({ token: tokenJson(token) });
  });

  app.post('/v1/action-tokens/drain', async (c) => {
    const body = await readJsonBody(c, ['owner', 'action']);
    const drained = await tokens.drain(body as { owner: string; action: string });
    return c.json({ drained });
  });
}
