import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { jobSchema, type Job, type MethodName, type Params } from '../../../../engine/service/api.js';
import { dispatch, type ServiceHandler } from '../../../../engine/service/dispatch.js';
import { PgkeepService } from '../../../../engine/service/service.js';
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

  it('the job schema accepts what the service produces, running and failed', async () => {
    // The real service, on a stanza whose cluster is not there: the check job starts, then fails.
    const dir = mkdtempSync(join(tmpdir(), 'pgkeep-dispatch-'));
    try {
      const config = join(dir, 'pgkeep.conf');
      writeFileSync(
        config,
        [
          '[global]',
          `repo1-path=${join(dir, 'repo')}`,
          `lock-path=${join(dir, 'lock')}`,
          'log-level-file=off',
          '[main]',
          `pg1-path=${join(dir, 'no-cluster')}`,
          `pg1-socket-path=${join(dir, 'no-socket')}`,
          '',
        ].join('\n'),
      );
      const service = new PgkeepService({ configArgs: [`--config=${config}`], stateDir: join(dir, 'state') });
      /** A job the service returned through dispatch, as a UI gets it. */
      const jobFrom = async (request: unknown): Promise<Job> => {
        const message = await dispatch(service, request);
        if (message.kind !== 'response' || !message.result.ok) throw new Error(`not a job: ${JSON.stringify(message)}`);
        return message.result.value as Job;
      };
      const job = await jobFrom({ id: 1, method: 'startJob', params: { kind: 'check', stanza: 'main' } });
      expect(jobSchema.safeParse(job).success).toBe(true);
      expect(job.state).toBe('running');
      let ended: Job = job;
      for (let tries = 0; ended.state === 'running' && tries < 200; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        ended = await jobFrom({ id: 2, method: 'getJob', params: { id: job.id } });
      }
      expect(ended.state).toBe('failed');
      expect(ended.error).toMatchObject({ code: expect.any(Number), message: expect.any(String) });
      expect(jobSchema.safeParse(ended).success).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
