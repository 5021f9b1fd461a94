import { describe, expect, it } from 'vitest';

import { repoRelativePath } from '../../../../../engine/command/repo/repo-path.js';
import { failure } from '../../../failure.js';

describe('paths given to repo-ls and repo-get', () => {
  it('are relative to the repository: relative as given, absolute ones within repo-path, without a trailing slash', () => {
    expect(repoRelativePath('backup/main', '/repo')).toBe('backup/main');
    expect(repoRelativePath('backup/main/', '/repo')).toBe('backup/main');
    expect(repoRelativePath('/repo', '/repo')).toBe('');
    expect(repoRelativePath('/repo/', '/repo')).toBe('');
    expect(repoRelativePath('/repo/archive/main', '/repo')).toBe('archive/main');
    expect(repoRelativePath('/var/repo', '/')).toBe('var/repo');
    expect(repoRelativePath('/', '/')).toBe('');
  });

  it('never lead out of the repository', () => {
    expect(failure(() => repoRelativePath('/repository2/x', '/repo'))).toMatchObject({
      errorName: 'ParamInvalid',
      message: "absolute path '/repository2/x' is not in base path '/repo'",
    });
    expect(failure(() => repoRelativePath('backup//main', '/repo')).message).toBe("path 'backup//main' cannot contain //");
    expect(failure(() => repoRelativePath('backup/../../etc', '/repo')).message).toBe(
      "path 'backup/../../etc' cannot contain '..'",
    );
    expect(failure(() => repoRelativePath('/repo/..', '/repo')).code).toBe(96);
  });
});
