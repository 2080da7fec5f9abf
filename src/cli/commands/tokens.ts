/**
 * `tessera tokens`: manage personal access tokens on the configured store.
 * The token string is printed once, by `issue` and `rotate`; a secret hash is
 * never printed. `revoke`, `rotate` and an `update` that takes something away
 * also deny the JWTs the service minted from the token, as its own routes do.
 * @module
 */
import { parseArgs } from 'node:util';
import { type AccessTokens, createAccessTokens } from '../../access-tokens/access-tokens.js';
import type { AccessToken, RolesUpdate, UpdateInput } from '../../access-tokens/types.js';
import { isTesseraError, NotFoundError } from '../../core/errors.js';
import { MAX_JWT_TTL_SECONDS } from '../../server/config.js';
import {
  denylistRevoker,
  type MintedJwtRevoker,
  updateRevokesMinted,
} from '../../server/minted-jwts.js';
import type { CliCommand, CliContext } from '../context.js';

const HELP = [
  'Usage: tessera tokens <subcommand> [options] [--json]',
  '',
  'Manage personal access tokens on the configured store.',
  '',
  'Subcommands:',
  '  issue --owner <owner> [--admin] [--role <role>]... [--ttl <dur> | --expires-at <date>]',
  '        [--token-id <id>]        create a token; the token is printed once',
  '  list [--owner <owner>] [--role <role>] [--limit <n>] [--cursor <cursor>]',
  '  show <tokenId>',
  '  update <tokenId> [--owner <owner>] [--admin | --no-admin] [--role <role>]... (replace)',
  '        [--add-role <role>]... | [--remove-role <role>]...',
  '        [--ttl <dur> | --expires-at <date> | --no-expiry]',
  '  revoke <tokenId> [--cleanup-at <date>]',
  '  restore <tokenId>                restore a revoked token with its former expiry',
  '  rotate <tokenId> [--overlap <dur>]  new secret, printed once; the old one works for <dur>',
  '',
  'revoke, rotate, and an update that takes something away (--no-admin, --role,',
  '--remove-role, --owner, an expiry within a day) also end the JWTs the service',
  'minted from the token.',
  '',
  'Durations: 90s, 15m, 12h, 30d (or plain seconds). Dates: ISO 8601, e.g. 2027-01-31 or',
  '2027-01-31T12:00:00Z. --json prints one JSON object (times in ms since epoch).',
  '',
].join('\n');

/** A mistake in the arguments: print it and exit 2. */
class UsageError extends Error {}

const DURATION_RE = /^(\d{1,9})([smhd]?)$/;
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

function parseDuration(text: string, name: string): number {
  const m = DURATION_RE.exec(text);
  if (!m) throw new UsageError(`${name} must be a duration like 90s, 15m, 12h or 30d`);
  return Number(m[1]) * (UNIT_SECONDS[m[2] ?? ''] ?? 1);
}

function parseDate(text: string, name: string): number {
  if (!/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    throw new UsageError(`${name} must be an ISO 8601 date, e.g. 2027-01-31T12:00:00Z`);
  }
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new UsageError(`${name} is not a valid date`);
  return ms;
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function status(t: AccessToken, now: number): string {
  if (t.revokedAt !== null) return 'revoked';
  if (t.expiresAt !== null && t.expiresAt <= now) return 'expired';
  return 'active';
}

function describeToken(t: AccessToken, now: number): string {
  return [
    `Token id:     ${t.tokenId}`,
    `Owner:        ${t.owner}`,
    `Admin:        ${t.isAdmin ? 'yes' : 'no'}`,
    `Roles:        ${t.roles.length === 0 ? '-' : t.roles.join(', ')}`,
    `Status:       ${status(t, now)}`,
    `Created:      ${iso(t.createdAt)}`,
    `Last used:    ${iso(t.lastUsedAt)}`,
    `Expires:      ${iso(t.expiresAt)}`,
    ...(t.revokedAt === null ? [] : [`Revoked:      ${iso(t.revokedAt)}`]),
    ...(t.previousSecretExpiresAt === null
      ? []
      : [`Old secret until: ${iso(t.previousSecretExpiresAt)}`]),
    '',
  ].join('\n');
}

/** Public fields only: never a hash, even if one slipped into the object. */
function publicJson(t: AccessToken): Omit<AccessToken, 'secretPhc'> {
  const { secretPhc: _hash, ...rest } = t;
  return rest;
}

type Parsed = ReturnType<typeof parseArgs>;

function parse(
  args: readonly string[],
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'],
  positionals: number,
): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    } as Parameters<typeof parseArgs>[0]);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.values.help !== true && parsed.positionals.length !== positionals) {
    throw new UsageError(
      positionals === 0 ? 'unexpected argument' : 'expected exactly one <tokenId>',
    );
  }
  return parsed;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown) => (Array.isArray(v) ? (v as string[]) : undefined);

function expiry(
  values: Parsed['values'],
  now: number,
  allowNone: boolean,
): number | null | undefined {
  const set = ['ttl', 'expires-at', 'expiry'].filter((k) => values[k] !== undefined);
  if (set.length > 1) throw new UsageError('give one of --ttl, --expires-at, --no-expiry');
  if (values.ttl !== undefined) return now + parseDuration(str(values.ttl) ?? '', '--ttl') * 1000;
  if (values['expires-at'] !== undefined) {
    return parseDate(str(values['expires-at']) ?? '', '--expires-at');
  }
  if (allowNone && values.expiry === false) return null;
  if (values.expiry === true) throw new UsageError('unknown option --expiry');
  return undefined;
}

/** What a subcommand runs on: the tokens, and the denial of the JWTs minted from one. */
interface Target {
  readonly pats: AccessTokens;
  readonly minted: MintedJwtRevoker;
}

/** Parses a subcommand's arguments (throwing UsageError), returning what runs it. */
type Prepare = (args: readonly string[], ctx: CliContext) => (target: Target) => Promise<void>;

function printRecord(record: AccessToken, json: boolean, ctx: CliContext) {
  ctx.io.out(
    json
      ? `${JSON.stringify({ record: publicJson(record) })}\n`
      : describeToken(record, ctx.clock.now()),
  );
}

function printNewToken(
  label: string,
  result: { token: string; record: AccessToken },
  json: boolean,
  ctx: CliContext,
) {
  if (json) {
    ctx.io.out(`${JSON.stringify({ token: result.token, record: publicJson(result.record) })}\n`);
  } else {
    ctx.io.out(`${label} (printed once; store it now):\n  ${result.token}\n\n`);
    ctx.io.out(describeToken(result.record, ctx.clock.now()));
  }
}

const issue: Prepare = (args, ctx) => {
  const { values } = parse(
    args,
    {
      owner: { type: 'string' },
      admin: { type: 'boolean' },
      role: { type: 'string', multiple: true },
      ttl: { type: 'string' },
      'expires-at': { type: 'string' },
      'token-id': { type: 'string' },
    },
    0,
  );
  const owner = str(values.owner);
  if (owner === undefined) throw new UsageError('--owner is required');
  const input = {
    owner,
    isAdmin: values.admin === true,
    roles: strs(values.role) ?? [],
    expiresAt: expiry(values, ctx.clock.now(), false) ?? null,
    ...(values['token-id'] === undefined ? {} : { tokenId: str(values['token-id']) }),
  };
  return async ({ pats }) =>
    printNewToken('Token', await pats.issue(input), values.json === true, ctx);
};

const list: Prepare = (args, ctx) => {
  const { values } = parse(
    args,
    {
      owner: { type: 'string' },
      role: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
    },
    0,
  );
  const limitText = str(values.limit) ?? '100';
  if (!/^\d{1,4}$/.test(limitText)) throw new UsageError('--limit must be a number in 1..1000');
  const input = {
    limit: Number(limitText),
    cursor: str(values.cursor) ?? null,
    ...(values.role === undefined ? {} : { hasRole: str(values.role) }),
  };
  const owner = str(values.owner);
  return async ({ pats }) => {
    const page =
      owner === undefined ? await pats.list(input) : await pats.listByOwner(owner, input);
    if (values.json === true) {
      ctx.io.out(
        `${JSON.stringify({ tokens: page.tokens.map(publicJson), cursor: page.cursor })}\n`,
      );
      return;
    }
    const now = ctx.clock.now();
    const rows = page.tokens.map((t) => [
      t.tokenId,
      t.owner,
      t.isAdmin ? 'admin' : '-',
      status(t, now),
      iso(t.expiresAt),
      t.roles.join(',') || '-',
    ]);
    const header = ['TOKEN ID', 'OWNER', 'ADMIN', 'STATUS', 'EXPIRES', 'ROLES'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const row of [header, ...rows]) {
      const cells = row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)));
      ctx.io.out(`${cells.join('  ')}\n`);
    }
    if (page.tokens.length === 0) ctx.io.out('(no tokens)\n');
    if (page.cursor !== null) ctx.io.out(`\nMore: tessera tokens list --cursor ${page.cursor}\n`);
  };
};

const show: Prepare = (args, ctx) => {
  const { values, positionals } = parse(args, {}, 1);
  const tokenId = positionals[0]!;
  return async ({ pats }) => {
    const record = await pats.get(tokenId);
    if (record === null) throw new NotFoundError(`Token not found: ${tokenId}`);
    printRecord(record, values.json === true, ctx);
  };
};

const update: Prepare = (args, ctx) => {
  const { values, positionals } = parse(
    args,
    {
      owner: { type: 'string' },
      admin: { type: 'boolean' },
      role: { type: 'string', multiple: true },
      'add-role': { type: 'string', multiple: true },
      'remove-role': { type: 'string', multiple: true },
      ttl: { type: 'string' },
      'expires-at': { type: 'string' },
      expiry: { type: 'boolean' },
    },
    1,
  );
  const replace = strs(values.role);
  const add = strs(values['add-role']);
  const remove = strs(values['remove-role']);
  if ([replace, add, remove].filter((x) => x !== undefined).length > 1) {
    throw new UsageError('give one of --role, --add-role, --remove-role');
  }
  const roles: RolesUpdate | undefined =
    replace ?? (add ? { add } : remove ? { remove } : undefined);
  const expiresAt = expiry(values, ctx.clock.now(), true);
  const input: UpdateInput = {
    ...(values.owner === undefined ? {} : { owner: str(values.owner) }),
    ...(values.admin === undefined ? {} : { isAdmin: values.admin === true }),
    ...(roles === undefined ? {} : { roles }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
  if (Object.keys(input).length === 0) throw new UsageError('nothing to update');
  return async ({ pats, minted }) => {
    const record = await pats.update(positionals[0]!, input);
    if (updateRevokesMinted(input, ctx.clock.now(), minted.lifetimeMs)) {
      await minted.revoke(record.tokenId);
    }
    printRecord(record, values.json === true, ctx);
  };
};

const revoke: Prepare = (args, ctx) => {
  const { values, positionals } = parse(args, { 'cleanup-at': { type: 'string' } }, 1);
  const cleanup = str(values['cleanup-at']);
  const options = cleanup === undefined ? {} : { expiresAt: parseDate(cleanup, '--cleanup-at') };
  return async ({ pats, minted }) => {
    const record = await pats.revoke(positionals[0]!, options);
    await minted.revoke(record.tokenId);
    printRecord(record, values.json === true, ctx);
  };
};

const restore: Prepare = (args, ctx) => {
  const { values, positionals } = parse(args, {}, 1);
  return async ({ pats }) =>
    printRecord(await pats.restore(positionals[0]!), values.json === true, ctx);
};

const rotate: Prepare = (args, ctx) => {
  const { values, positionals } = parse(args, { overlap: { type: 'string' } }, 1);
  const overlap = str(values.overlap);
  const overlapSeconds = overlap === undefined ? 0 : parseDuration(overlap, '--overlap');
  return async ({ pats, minted }) => {
    const rotated = await pats.rotate(positionals[0]!, { overlapSeconds });
    await minted.revoke(rotated.record.tokenId);
    printNewToken('New token', rotated, values.json === true, ctx);
  };
};

const SUBCOMMANDS: Record<string, Prepare> = {
  issue,
  list,
  show,
  update,
  revoke,
  restore,
  rotate,
};

/** The `tokens` command. */
export const tokensCommand: CliCommand = {
  name: 'tokens',
  summary: 'issue, list, show, update, revoke, restore and rotate personal access tokens',
  help: HELP,
  async run(args, ctx) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      (sub === undefined ? ctx.io.err : ctx.io.out)(HELP);
      return sub === undefined ? 2 : 0;
    }
    const prepare = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
    if (prepare === undefined) {
      ctx.io.err(`tessera tokens: unknown subcommand "${sub}"\n\n${HELP}`);
      return 2;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      ctx.io.out(HELP);
      return 0;
    }
    let runner: (target: Target) => Promise<void>;
    try {
      runner = prepare(rest, ctx); // arguments are checked before the store is opened
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      ctx.io.err(`tessera tokens ${sub}: ${err.message}\n`);
      return 2;
    }
    const keyring = await ctx.keyring();
    const store = await ctx.openStore();
    const pats = createAccessTokens({ store, keyring, clock: ctx.clock });
    // The service's JWT lifetime is not known here: deny for the longest it can be configured with.
    const minted = denylistRevoker({
      store,
      clock: ctx.clock,
      lifetimeSeconds: MAX_JWT_TTL_SECONDS,
    });
    try {
      await runner({ pats, minted });
      return 0;
    } catch (err) {
      if (!isTesseraError(err)) throw err;
      ctx.io.err(`tessera tokens ${sub}: ${err.message}\n`);
      return isTesseraError(err, 'ERR_TESSERA_INVALID_INPUT') ? 2 : 1;
    } finally {
      await pats.close();
      await store.close();
    }
  },
};
