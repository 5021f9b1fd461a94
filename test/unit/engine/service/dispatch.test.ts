import { describe, expect, it } from 'vitest';

import { jobSchema, type MethodName, type Params } from '../../../../engine/service/api.js';
import { dispatch, type ServiceHandler } from '../../../../engine/service/dispatch.js';
import { PgkeepError } from '../../../../engine/error/pgkeep-error.js';

/** A handler that records what reached it: dispatch must stop invalid requests before. */
function recorder(answer: (method: string, params: unknown) => unknown) {
  const calls: [string, unknown][] = [];
  const handler: ServiceHandler = {
    handle: async <M extends MethodName>(method: M, params: Params<M>) => {
      calls.push([method, params]);
      return answer(method, params) as never;
    },
  };
  return { handler, calls };
}

describe('dispatch validates every request before the service sees it', () => {
  it('passes valid requests and wraps values', async () => {
    const { handler, calls } = recorder(() => []);
    expect(await dispatch(handler, { id: 7, method: 'listStanzas', params: {} })).toEqual({
      kind: 'response',
      id: 7,
      result: { ok: true, value: [] },
    });
    expect(
      await dispatch(handler, { id: 8, method: 'startJob', params: { kind: 'backup', stanza: 'main', type: 'incr' } }),
    ).toMatchObject({ id: 8, result: { ok: true } });
    expect(calls).toEqual([
      ['listStanzas', {}],
      ['startJob', { kind: 'backup', stanza: 'main', type: 'incr' }],
    ]);
  });

  it.each([
    ['not an object', 'x', 'the request is not {id, method, params}'],
    ['no id', { method: 'listJobs', params: {} }, 'the request is not {id, method, params}'],
    ['unknown method', { id: 1, method: '__proto__', params: {} }, "unknown method '__proto__'"],
    ['bad kind', { id: 1, method: 'startJob', params: { kind: 'drop', stanza: 'main' } }, "invalid parameters for 'startJob'"],
    [
      'path in stanza',
      { id: 1, method: 'getStanza', params: { name: '../etc' } },
      "invalid parameters for 'getStanza' at 'name'",
    ],
    ['extra long id', { id: 1, method: 'getJob', params: { id: 'x'.repeat(101) } }, "invalid parameters for 'getJob' at 'id'"],
  ])('refuses %s', async (_what, raw, message) => {
    const { handler, calls } = recorder(() => undefined);
    const response = await dispatch(handler, raw);
    expect(response).toMatchObject({
      kind: 'response',
      result: { ok: false, code: 96, name: 'ParamInvalid', message: expect.stringContaining(message) },
    });
    expect(calls).toEqual([]);
  });

  it('turns errors into results with code, message and hint', async () => {
    const { handler } = recorder(() => {
      throw new PgkeepError('LockAcquire', 'a backup of stanza main is already running', { hint: 'wait' });
    });
    expect(await dispatch(handler, { id: 3, method: 'listJobs', params: {} })).toEqual({
      kind: 'response',
      id: 3,
      result: { ok: false, code: 50, name: 'LockAcquire', message: 'a backup of stanza main is already running', hint: 'wait' },
    });
  });

  it('the job schema accepts what the service produces', () => {
    expect(
      jobSchema.safeParse({
        id: 'a',
        request: { kind: 'check', stanza: 'main' },
        state: 'running',
        startedAt: 1,
        endedAt: null,
        progress: null,
        summary: null,
        backupLabel: null,
        error: null,
        log: [],
      }).success,
    ).toBe(true);
  });
});
