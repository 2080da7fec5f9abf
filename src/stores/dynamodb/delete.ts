/**
 * `delete` of the DynamoDB store, as a one-item `TransactWriteItems` with a
 * `ClientRequestToken`.
 *
 * A deleted item keeps no write id (see `write-ids.ts`), so a plain DeleteItem
 * re-sent after it was applied could not be told from a delete that found
 * nothing, and could even delete a record created at the same key in between.
 * So each round reads the item (consistently), lets the reference engine
 * decide (`syncDelete`), and sends the delete pinned to the item as read, in a
 * transaction with a fresh random token. DynamoDB answers a copy of that
 * request arriving within ten minutes of the first with success and applies
 * nothing, so the store answers exactly what the first application did
 * (`previous`: the record read). If the item changed since the read, the
 * transaction is cancelled and the round starts over.
 *
 * Cost: a consistent read and a transactional delete (two write units)
 * instead of one DeleteItem; deletes are rare next to reads and updates.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { ConflictError } from '../../core/errors.js';
import type { DeleteResult, RecordRef, Where } from '../contract.js';
import { syncDelete } from '../shared/sync-engine.js';
import { checkRef, checkWhere } from '../shared/validate.js';
import { type EngineContext, MAX_ROUNDS, pause, readState, stateTable } from './engine.js';
import { Expr } from './expressions.js';
import type { RecordCodec } from './item-codec.js';
import { isCancelledByCondition } from './transact.js';

/**
 * `Store.delete`.
 * @throws ConflictError after repeated lost races
 */
export async function deleteRecord(
  ctx: EngineContext,
  codec: RecordCodec,
  ref: RecordRef,
  where: Where | undefined,
): Promise<DeleteResult> {
  checkRef(ref);
  checkWhere(where);
  const key = codec.key(ref.collection, ref.key);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const state = await readState(ctx, codec, ref);
    const result = syncDelete(stateTable(state).table, ref, where);
    if (!result.ok) return result;
    const e = new Expr();
    const condition = codec.pin(e, state.item);
    try {
      await ctx.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: codec.tableName,
                Key: key,
                ConditionExpression: condition,
                ...e.params(),
              },
            },
          ],
          ClientRequestToken: randomUUID(),
        }),
        // Safe to send again: DynamoDB applies a token's request once.
        { idempotent: true },
      );
      return result;
    } catch (err) {
      if (!isCancelledByCondition(err)) throw err;
      await pause(round);
    }
  }
  throw new ConflictError('DynamoDB item kept changing; gave up after repeated conflicts.');
}
