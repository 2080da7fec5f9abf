/**
 * The body reader's error: a Tessera error with a stable code, its class name
 * as `name`, and the status the adapters answer with.
 */
import { describe, expect, it } from 'vitest';
import { isTesseraError, TesseraError } from '../../src/core/errors.js';
import { RequestBodyError, readWebBody } from '../../src/http/body.js';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
      controller.close();
    },
  });
}

describe('RequestBodyError', () => {
  it('is a TesseraError with a stable code, its class name and a status', () => {
    const tooLarge = new RequestBodyError('too_large');
    expect(tooLarge).toBeInstanceOf(TesseraError);
    expect(tooLarge).toBeInstanceOf(RequestBodyError);
    expect(tooLarge.name).toBe('RequestBodyError');
    expect(tooLarge).toMatchObject({
      code: 'ERR_TESSERA_BODY_TOO_LARGE',
      status: 413,
      reason: 'too_large',
      message: 'Request body too large',
    });
    expect(isTesseraError(tooLarge, 'ERR_TESSERA_BODY_TOO_LARGE')).toBe(true);

    const aborted = new RequestBodyError('aborted', 'The client went away.');
    expect(aborted).toBeInstanceOf(TesseraError);
    expect(aborted).toMatchObject({
      name: 'RequestBodyError',
      code: 'ERR_TESSERA_BODY_ABORTED',
      status: 400,
      reason: 'aborted',
      message: 'The client went away.',
    });
    expect(isTesseraError(aborted, 'ERR_TESSERA_BODY_ABORTED')).toBe(true);
  });
});

describe('readWebBody', () => {
  it('reads up to the limit and refuses the first byte past it', async () => {
    expect(await readWebBody(streamOf('{"a":', '1}'), 7)).toEqual({ ok: true, text: '{"a":1}' });
    expect(await readWebBody(streamOf('{"a":', '12}'), 7)).toEqual({
      ok: false,
      reason: 'too_large',
    });
    expect(await readWebBody(null)).toEqual({ ok: true, text: '' });
  });

  it('decodes a UTF-8 character split across chunks', async () => {
    const bytes = new TextEncoder().encode('é');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 1));
        controller.enqueue(bytes.slice(1));
        controller.close();
      },
    });
    expect(await readWebBody(stream)).toEqual({ ok: true, text: 'é' });
  });
});
