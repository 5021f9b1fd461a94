import { describe, expect, it } from 'vitest';

import { PgkeepError } from '../../../../engine/error/pgkeep-error.js';
import { JobError } from '../../../../engine/exec/job-error.js';
import { toWireError, wireErrorName } from '../../../../engine/exec/wire-error.js';

describe('errors as data', () => {
  it('keeps name, code, message, hint and stack of a PgkeepError', () => {
    const error = new PgkeepError('Checksum', "checksum of 'base/1/1259' is wrong", { hint: 'the file changed on disk' });
    const wire = toWireError(error);
    expect(wire).toEqual({
      name: 'Checksum',
      code: 26,
      message: "checksum of 'base/1/1259' is wrong",
      hint: 'the file changed on disk',
      stack: error.stack,
    });
    expect(wireErrorName(wire)).toBe('Checksum');
  });

  it('names other errors as the main process would, keeping their own stack', () => {
    const plain = new TypeError('Bad thing');
    expect(toWireError(plain)).toMatchObject({ name: 'Unhandled', code: 124, message: 'bad thing', stack: plain.stack });
    const thrownString = toWireError('a string');
    expect(thrownString).toMatchObject({ name: 'Unknown', code: 125, message: 'a string' });
    expect(thrownString.stack).toContain('PgkeepError');
  });

  it('calls a name this build does not know Unknown', () => {
    expect(wireErrorName({ name: 'FromTheFuture', code: 199, message: 'x' })).toBe('Unknown');
    expect(wireErrorName({ name: 'constructor', code: 1, message: 'x' })).toBe('Unknown');
  });

  it('builds a JobError without a stack from the worker', () => {
    const error = new JobError({ key: 'k', handler: 'h', size: 1, queue: 0 }, [
      { name: 'FromTheFuture', code: 199, message: 'odd' },
    ]);
    expect(error.errorName).toBe('Unknown');
    expect(error.code).toBe(125);
    expect(error.hint).toBeUndefined();
    expect(error.message).toBe("job 'k' failed after 1 attempt: odd");
    expect((error.cause as Error).name).toBe('FromTheFuture');
  });
});
