/**
 * The shape of the expressions the DynamoDB store sends: flat AND chains,
 * parentheses only around an OR, shared placeholders for repeated scalars,
 * and no guard the rest of the condition already implies. (The semantics of
 * every shape are held to the reference by the differential and conformance
 * tests; these tests pin what a request costs an expression parser.)
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  and,
  compileMutation,
  Expr,
  fieldsCondition,
  impliesDataMap,
  numericFields,
} from '../../../src/stores/dynamodb/expressions.js';
import { sharedTestDynamo, stopSharedTestDynamo } from '../../support/dynalite.js';
import { freshStore } from './helpers.js';

afterAll(() => stopSharedTestDynamo());

/** Deepest parenthesis nesting of an expression. */
function depth(expression: string): number {
  let d = 0;
  let max = 0;
  for (const c of expression) {
    if (c === '(') max = Math.max(max, ++d);
    else if (c === ')') d--;
  }
  return max;
}

describe('and', () => {
  it('joins parts into one flat chain, splicing nested chains in', () => {
    expect(and(['a = :a', and(['b = :b', and(['c = :c', 'd = :d'])])])).toBe(
      'a = :a AND b = :b AND c = :c AND d = :d',
    );
  });

  it('parenthesizes only the operands with a top-level OR', () => {
    expect(and(['a = :a', 'b = :b OR c = :c', 'NOT (d = :d OR e = :e)'])).toBe(
      'a = :a AND (b = :b OR c = :c) AND NOT (d = :d OR e = :e)',
    );
    expect(and(['x = :x OR (y = :y AND z = :z)', 'w = :w'])).toBe(
      '(x = :x OR (y = :y AND z = :z)) AND w = :w',
    );
  });

  it('drops empty and repeated operands, and returns a single operand as it is', () => {
    expect(and(['a = :a', undefined, '', and(['a = :a', 'b = :b'])])).toBe('a = :a AND b = :b');
    expect(and(['a = :a OR b = :b'])).toBe('a = :a OR b = :b');
    expect(and(['a = :a OR b = :b', 'a = :a OR b = :b'])).toBe('a = :a OR b = :b');
    expect(and([undefined, ''])).toBeUndefined();
  });

  it('never splits a BETWEEN', () => {
    expect(and(['n BETWEEN :a AND :b', 'c = :c'])).toBe('n BETWEEN :a AND :b AND c = :c');
    expect(and(['n BETWEEN :a AND :b', 'n BETWEEN :a AND :b'])).toBe('n BETWEEN :a AND :b');
  });
});

describe('placeholders', () => {
  it('gives a repeated string or number the same placeholder, and other values their own', () => {
    const e = new Expr();
    expect(e.value({ N: '0' })).toBe(e.value({ N: '0' }));
    expect(e.value({ S: '0' })).not.toBe(e.value({ N: '0' }));
    expect(e.value({ L: [] })).not.toBe(e.value({ L: [] }));
    expect(Object.keys(e.params().ExpressionAttributeValues ?? {})).toHaveLength(4);
  });
});

describe('implied guards', () => {
  it('requires the data Map explicitly only when no field condition needs its field', () => {
    const e = new Expr();
    expect(fieldsCondition(e, [{ field: 'n', op: 'gt', value: 0 }])).toBe('#n0.#n1 > :v0');
    expect(fieldsCondition(e, [{ field: 'n', op: 'ne', value: 1 }])).toMatch(
      /^attribute_exists\(#n0\) AND /,
    );
    expect(impliesDataMap({ fields: [{ field: 'n', op: 'eq', value: null }] })).toBe(false);
    expect(impliesDataMap({ fields: [{ field: 'n', op: 'eq', value: 'x' }] })).toBe(true);
    expect(impliesDataMap({ fields: [{ field: 'n', op: 'absent' }] })).toBe(false);
    expect(impliesDataMap({ liveAt: 1 })).toBe(false);
  });

  it('adds to a field the condition requires to be a number without a type guard', () => {
    const guarded = compileMutation(new Expr(), { inc: { n: -1 } }, (x) => x);
    expect(guarded?.guards).toHaveLength(1);
    expect(guarded?.set[0]).toContain('if_not_exists');
    const numbers = numericFields({ fields: [{ field: 'n', op: 'gt', value: 0 }] });
    const bare = compileMutation(new Expr(), { inc: { n: -1 } }, (x) => x, numbers);
    expect(bare?.guards).toEqual([]);
    expect(bare?.set).toEqual(['#n0.#n1 = #n0.#n1 + :v0']);
  });
});

describe('a use()-shaped update', () => {
  it('is one UpdateItem whose condition is a flat chain of comparisons', async () => {
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    const sent: UpdateItemCommand[] = [];
    const send = client.send.bind(client);
    (client as { send: unknown }).send = (command: unknown, ...rest: unknown[]) => {
      if (command instanceof UpdateItemCommand) sent.push(command);
      return (send as (...a: unknown[]) => Promise<unknown>)(command, ...rest);
    };
    const store = await freshStore({ client });
    try {
      const ref = { collection: 'action', key: 'k:a:o', partition: 'a:a' };
      await store.put(
        {
          ...ref,
          data: { valueHash: 'h', remainingUses: 2, failures: 0 },
          expiresAt: 2_000,
        },
        { mode: 'insert', now: 1_000 },
      );
      sent.length = 0;
      const r = await store.update(
        ref,
        { inc: { remainingUses: -1 } },
        {
          where: {
            liveAt: 1_000,
            fields: [
              { field: 'remainingUses', op: 'gt', value: 0 },
              { field: 'valueHash', op: 'eq', value: 'h' },
              { field: 'failures', op: 'lt', value: 10 },
            ],
          },
        },
      );
      expect(r.ok && r.record.data.remainingUses).toBe(1);
      expect(sent).toHaveLength(1);
      const input = sent[0]!.input;
      const condition = input.ConditionExpression ?? '';
      expect(depth(condition)).toBe(0);
      expect(condition).not.toMatch(/attribute_|if_not_exists|\bOR\b/);
      // Five for the use, four for the write-id guard (`NOT #w = :id`, see write-ids.ts).
      expect(condition.split(' AND ')).toHaveLength(9);
      // if_not_exists only moves the write ids down: none on a data path.
      expect(input.UpdateExpression).not.toMatch(/if_not_exists\(#n\d+\.#n\d+/);
      expect(input.UpdateExpression?.match(/if_not_exists/g)).toHaveLength(3);
    } finally {
      await store.close();
      client.destroy();
    }
  });
});
