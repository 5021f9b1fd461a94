import { describe, expect, it } from 'vitest';

import { resolveRetention } from '../../../../../engine/command/expire/retention.js';

describe('retention defaults (pgBackRest cfgLoadUpdateOption)', () => {
  it('takes the WAL retention from the full retention with archive type full and full type count', () => {
    const { settings, fullWarnings, archiveWarnings } = resolveRetention(1, { full: 2 });
    expect(settings).toEqual({
      full: 2,
      fullType: 'count',
      diff: undefined,
      archive: 2,
      archiveType: 'full',
      history: undefined,
    });
    expect([...fullWarnings, ...archiveWarnings]).toEqual([]);
  });

  it('leaves it to the expire itself with time-based full retention', () => {
    expect(resolveRetention(1, { full: 7, fullType: 'time' }).settings.archive).toBeUndefined();
  });

  it('warns that the repository may run out of space without full retention', () => {
    const { settings, fullWarnings } = resolveRetention(2, { fullType: 'time' });
    expect(settings.archive).toBeUndefined();
    expect(fullWarnings).toEqual([
      "option 'repo2-retention-full' is not set for 'repo2-retention-full-type=time', the repository may run out of space\n" +
        "HINT: to retain full backups indefinitely (without warning), set option 'repo2-retention-full' to the maximum.",
    ]);
  });

  it('takes the differential retention with archive type diff, and warns when neither is set', () => {
    expect(resolveRetention(1, { full: 2, diff: 3, archiveType: 'diff' }).settings.archive).toBe(3);
    const unset = resolveRetention(1, { full: 2, archiveType: 'diff' });
    expect(unset.settings.archive).toBeUndefined();
    expect(unset.archiveWarnings).toEqual([
      "WAL segments will not be expired: option 'repo1-retention-archive-type=diff' but neither option " +
        "'repo1-retention-archive' nor option 'repo1-retention-diff' is set",
    ]);
  });

  it('needs an explicit WAL retention with archive type incr', () => {
    const unset = resolveRetention(1, { full: 2, archiveType: 'incr' });
    expect(unset.settings.archive).toBeUndefined();
    expect(unset.archiveWarnings).toEqual([
      "WAL segments will not be expired: option 'repo1-retention-archive-type=incr' but option 'repo1-retention-archive' is not set",
    ]);
    expect(resolveRetention(1, { full: 2, archiveType: 'incr', archive: 4 }).settings.archive).toBe(4);
  });

  it('keeps an explicit WAL retention, warning when archive type diff has no differential retention', () => {
    expect(resolveRetention(1, { full: 2, archive: 1 }).settings.archive).toBe(1);
    const diff = resolveRetention(1, { full: 2, archive: 1, archiveType: 'diff' });
    expect(diff.settings.archive).toBe(1);
    expect(diff.archiveWarnings).toEqual([
      "option 'repo1-retention-diff' is not set for 'repo1-retention-archive-type=diff'\n" +
        "HINT: to retain differential backups indefinitely (without warning), set option 'repo1-retention-diff' to the maximum.",
    ]);
    expect(resolveRetention(1, { full: 2, archive: 1, diff: 1, archiveType: 'diff' }).archiveWarnings).toEqual([]);
  });
});
