/**
 * An emulation of DynamoDB's `TransactWriteItems`, in front of dynalite 4
 * (which answers UnknownOperationException for it), so the store's `transact`
 * is tested, never skipped.
 *
 * How it works. An HTTP server in the test process receives every request of
 * every client (the test's and the race workers' in other OS processes):
 * - ordinary requests go straight to dynalite's handler under a SHARED lock;
 * - a `TransactWriteItems` takes the EXCLUSIVE lock (no other request runs
 *   meanwhile), saves the before-image of every addressed item, then applies
 *   the items in order as single conditional writes (Put, Update, Delete; a
 *   ConditionCheck as a conditional rewrite of the item as it is, or a
 *   conditional delete of an absent item). If one fails its condition (or
 *   fails at all), every applied item is restored from its before-image, the
 *   remaining items' conditions are checked against the unchanged state, and
 *   the answer is `TransactionCanceledException` with one `CancellationReasons`
 *   entry per item (`ConditionalCheckFailed` with the old item when
 *   `ReturnValuesOnConditionCheckFailure: ALL_OLD`, else `None`), as DynamoDB
 *   answers. Sub-requests carry a secret header that bypasses the lock.
 *
 * `ClientRequestToken` idempotency, as DynamoDB documents it: a request
 * whose token committed within the last ten minutes (counted from its
 * completion, on the emulation's clock) is answered with success again and
 * applies nothing; the same token with other parameters within that window
 * is refused with `IdempotentParameterMismatchException`; after ten minutes
 * the token is new again. A token whose request was cancelled or failed is
 * not kept, so a copy of it runs again: DynamoDB documents idempotency for a
 * request that succeeded only, and this is the reading the store needs least
 * (it never relies on a failed request's token).
 *
 * Fidelity: all-or-nothing, isolation from concurrent reads and writes
 * (nothing observes a half-applied or rolled-back transaction), per-item
 * conditions, duplicate-item and size validation, cancellation reasons,
 * `ClientRequestToken` idempotency. Not emulated: `TransactionConflict` and
 * `TransactionInProgressException` (the lock serializes instead), consumed
 * capacity, and a validation error in a later item is found only after
 * earlier items were applied (then rolled back).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AttributeValue,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A readers-writer lock, FIFO (a waiting writer holds back later readers). */
export class RwLock {
  #readers = 0;
  #writer = false;
  readonly #queue: Array<{ exclusive: boolean; grant: () => void }> = [];

  /** Wait for the lock; resolves to its release function. */
  acquire(exclusive: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      this.#queue.push({
        exclusive,
        grant: () => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            if (exclusive) this.#writer = false;
            else this.#readers--;
            this.#drain();
          });
        },
      });
      this.#drain();
    });
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.exclusive) {
        if (this.#writer || this.#readers > 0) return;
        this.#writer = true;
        this.#queue.shift();
        head.grant();
        return;
      }
      if (this.#writer) return;
      this.#readers++;
      this.#queue.shift();
      head.grant();
    }
  }
}

interface TransactItem {
  Put?: {
    TableName: string;
    Item: Item;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
    ReturnValuesOnConditionCheckFailure?: string;
  };
  Update?: {
    TableName: string;
    Key: Item;
    UpdateExpression: string;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
    ReturnValuesOnConditionCheckFailure?: string;
  };
  Delete?: {
    TableName: string;
    Key: Item;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
    ReturnValuesOnConditionCheckFailure?: string;
  };
  ConditionCheck?: {
    TableName: string;
    Key: Item;
    ConditionExpression: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
    ReturnValuesOnConditionCheckFailure?: string;
  };
}

class AwsFailure extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Counters, for tests of the emulation itself. */
export interface EmulationStats {
  transactions: number;
  committed: number;
  cancelled: number;
  /** Requests answered from a committed `ClientRequestToken` (nothing applied). */
  replayed: number;
}

/** How long a committed `ClientRequestToken` answers copies of its request, ms (DynamoDB's 10 minutes). */
export const CLIENT_TOKEN_WINDOW_MS = 10 * 60 * 1000;

/** Options of {@link startTransactEmulation}. */
export interface TransactEmulationOptions {
  /** Clock of the token window, ms since epoch (default `Date.now`). */
  readonly now?: () => number;
}

/** The server in front of dynalite. */
export interface TransactEmulation {
  readonly endpoint: string;
  readonly stats: EmulationStats;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/x-amz-json-1.0';

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('x-amzn-RequestId', randomBytes(26).toString('hex').toUpperCase());
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Start the emulation server on a free loopback port, in front of `inner`
 * (dynalite's request handler).
 */
export async function startTransactEmulation(
  inner: Handler,
  options: TransactEmulationOptions = {},
): Promise<TransactEmulation> {
  const now = options.now ?? Date.now;
  const secret = randomBytes(16).toString('hex');
  const lock = new RwLock();
  const stats: EmulationStats = { transactions: 0, committed: 0, cancelled: 0, replayed: 0 };
  /** Committed tokens: the request's other parameters (as JSON) and when it completed. */
  const tokens = new Map<string, { params: string; at: number }>();
  let client: DynamoDBClient | undefined;
  const keySchemas = new Map<string, string[]>();

  const server: Server = createServer((req, res) => {
    if (req.headers['x-transact-emulation'] === secret) {
      inner(req, res);
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target.endsWith('.TransactWriteItems')) {
      void lock.acquire(true).then(async (release) => {
        try {
          const body = await readBody(req);
          const outcome = await idempotent(JSON.parse(body) as Record<string, unknown>);
          reply(res, 200, outcome);
        } catch (err) {
          if (err instanceof AwsFailure) {
            reply(res, 400, {
              __type: `com.amazonaws.dynamodb.v20120810#${err.type}`,
              message: err.message,
              ...err.extra,
            });
          } else {
            reply(res, 500, {
              __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
              message: String((err as Error)?.message ?? err),
            });
          }
        } finally {
          release();
        }
      });
      return;
    }
    void lock.acquire(false).then((release) => {
      res.on('close', release);
      inner(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'emulation', secretAccessKey: 'emulation' },
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-transact-emulation'] =
        secret;
      return next(args);
    },
    { step: 'build', name: 'transactEmulationHeader' },
  );
  const sub = client;

  async function keyOf(table: string, item: Item): Promise<Item> {
    let names = keySchemas.get(table);
    if (names === undefined) {
      try {
        const out = await sub.send(new DescribeTableCommand({ TableName: table }));
        names = (out.Table?.KeySchema ?? []).map((k) => k.AttributeName as string);
      } catch (err) {
        throw asFailure(err);
      }
      keySchemas.set(table, names);
    }
    const key: Item = {};
    for (const n of names) {
      const v = item[n];
      if (v === undefined) {
        throw new AwsFailure(
          'ValidationException',
          'One or more parameter values were invalid: Missing the key in the item',
        );
      }
      key[n] = v;
    }
    return key;
  }

  function asFailure(err: unknown): AwsFailure {
    if (err instanceof AwsFailure) return err;
    const e = err as { name?: string; message?: string };
    return new AwsFailure(e.name ?? 'InternalServerError', e.message ?? String(err));
  }

  async function getItem(table: string, key: Item): Promise<Item | null> {
    const out = await sub.send(
      new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }),
    );
    return out.Item ?? null;
  }

  async function restore(table: string, key: Item, before: Item | null): Promise<void> {
    if (before === null) await sub.send(new DeleteItemCommand({ TableName: table, Key: key }));
    else await sub.send(new PutItemCommand({ TableName: table, Item: before }));
  }

  /** A condition-only check of one item as it is now: true when it holds. */
  async function conditionHolds(
    table: string,
    key: Item,
    before: Item | null,
    cond: {
      ConditionExpression?: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues?: Item;
    },
  ): Promise<boolean> {
    if (cond.ConditionExpression === undefined) return true;
    // Keep only the placeholders the condition uses (an Update's others are unused here).
    const used = new Set(cond.ConditionExpression.match(/[#:][A-Za-z0-9_]+/g) ?? []);
    const pick = <T>(m: Record<string, T> | undefined) => {
      if (m === undefined) return undefined;
      const kept = Object.fromEntries(Object.entries(m).filter(([k]) => used.has(k)));
      return Object.keys(kept).length > 0 ? kept : undefined;
    };
    const params = {
      TableName: table,
      ConditionExpression: cond.ConditionExpression,
      ExpressionAttributeNames: pick(cond.ExpressionAttributeNames),
      ExpressionAttributeValues: pick(cond.ExpressionAttributeValues),
    };
    try {
      if (before === null) await sub.send(new DeleteItemCommand({ ...params, Key: key }));
      else await sub.send(new PutItemCommand({ ...params, Item: before }));
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async function apply(op: TransactItem, table: string, key: Item, before: Item | null) {
    const strip = <T extends { ReturnValuesOnConditionCheckFailure?: string }>(p: T) => {
      const { ReturnValuesOnConditionCheckFailure: _, ...rest } = p;
      return rest;
    };
    if (op.Put) await sub.send(new PutItemCommand(strip(op.Put)));
    else if (op.Update) await sub.send(new UpdateItemCommand(strip(op.Update)));
    else if (op.Delete) await sub.send(new DeleteItemCommand(strip(op.Delete)));
    else if (op.ConditionCheck) {
      if (!(await conditionHolds(table, key, before, op.ConditionCheck))) {
        const e = new Error('The conditional request failed');
        e.name = 'ConditionalCheckFailedException';
        throw e;
      }
    }
  }

  /** `transactWrite` under the `ClientRequestToken` rules (see the module comment). */
  async function idempotent(input: Record<string, unknown>): Promise<object> {
    const { ClientRequestToken: token, ...rest } = input;
    if (typeof token !== 'string') return transactWrite(rest);
    const t = now();
    // Oldest first (insertion order): drop the expired ones at the front.
    for (const [k, v] of tokens) {
      if (t - v.at < CLIENT_TOKEN_WINDOW_MS) break;
      tokens.delete(k);
    }
    const params = JSON.stringify(rest);
    const known = tokens.get(token);
    if (known !== undefined) {
      if (known.params !== params) {
        throw new AwsFailure(
          'IdempotentParameterMismatchException',
          'Request parameters do not match the previous request with the same ClientRequestToken',
        );
      }
      stats.replayed++;
      return {};
    }
    const outcome = await transactWrite(rest);
    tokens.set(token, { params, at: now() });
    return outcome;
  }

  async function transactWrite(input: { TransactItems?: unknown }): Promise<object> {
    stats.transactions++;
    const items = input.TransactItems;
    if (!Array.isArray(items) || items.length < 1 || items.length > 100) {
      throw new AwsFailure(
        'ValidationException',
        'Member must have length less than or equal to 100 and at least 1 (TransactItems)',
      );
    }
    const ops = items as TransactItem[];
    const targets: Array<{ table: string; key: Item; before: Item | null }> = [];
    const seen = new Set<string>();
    for (const op of ops) {
      const kinds = [op.Put, op.Update, op.Delete, op.ConditionCheck].filter(Boolean);
      if (kinds.length !== 1) {
        throw new AwsFailure(
          'ValidationException',
          'Each TransactItem takes exactly one operation',
        );
      }
      const table = (op.Put ?? op.Update ?? op.Delete ?? op.ConditionCheck)!.TableName;
      const key = op.Put
        ? await keyOf(table, op.Put.Item)
        : (op.Update ?? op.Delete ?? op.ConditionCheck)!.Key;
      const id = `${table}\u0000${JSON.stringify(Object.entries(key).sort())}`;
      if (seen.has(id)) {
        throw new AwsFailure(
          'ValidationException',
          'Transaction request cannot include multiple operations on one item',
        );
      }
      seen.add(id);
      targets.push({ table, key, before: null });
    }
    for (const t of targets) t.before = await getItem(t.table, t.key);

    let failedAt = -1;
    let failure: unknown;
    for (const [i, op] of ops.entries()) {
      const t = targets[i]!;
      try {
        await apply(op, t.table, t.key, t.before);
      } catch (err) {
        failedAt = i;
        failure = err;
        break;
      }
    }
    if (failedAt === -1) {
      stats.committed++;
      return {};
    }
    // Roll back what was applied, newest first.
    for (let j = failedAt - 1; j >= 0; j--) {
      const t = targets[j]!;
      await restore(t.table, t.key, t.before);
    }
    stats.cancelled++;
    if ((failure as { name?: string }).name !== 'ConditionalCheckFailedException') {
      throw asFailure(failure);
    }
    const reasons: Array<Record<string, unknown>> = [];
    for (const [i, op] of ops.entries()) {
      const t = targets[i]!;
      const spec = (op.Put ?? op.Update ?? op.Delete ?? op.ConditionCheck)!;
      const holds = i === failedAt ? false : await conditionHolds(t.table, t.key, t.before, spec);
      if (holds) {
        reasons.push({ Code: 'None' });
      } else {
        const reason: Record<string, unknown> = {
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
        };
        if (spec.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && t.before !== null) {
          reason.Item = t.before;
        }
        reasons.push(reason);
      }
    }
    throw new AwsFailure(
      'TransactionCanceledException',
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons
        .map((r) => r.Code)
        .join(', ')}]`,
      { CancellationReasons: reasons },
    );
  }

  return {
    endpoint,
    stats,
    async close() {
      client?.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
