import { execFileSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import {
  groupId,
  groupName,
  parseIdFile,
  processOwner,
  resetUserGroupCache,
  userId,
  userName,
} from '../../../../../engine/storage/posix/user-group.js';

describe('parseIdFile', () => {
  it('maps ids to the first name and names to their id, skipping comments, NIS lines and junk', () => {
    const table = parseIdFile(
      [
        '# comment',
        'root:x:0:0:root:/root:/bin/bash',
        '',
        'toor:x:0:0::/root:/bin/sh',
        '+nisuser::::::',
        '-excluded:x:5:5::/:/bin/sh',
        'broken-line',
        'bad:x:notanumber:1::/:/bin/sh',
        ':x:7:7::/:/bin/sh',
        'postgres:x:101:104::/var/lib/postgresql:/bin/bash',
        'postgres:x:999:999::/:/bin/sh',
      ].join('\n'),
    );
    expect([...table.nameById]).toEqual([
      [0, 'root'],
      [101, 'postgres'],
      [999, 'postgres'],
    ]);
    expect([...table.idByName]).toEqual([
      ['root', 0],
      ['toor', 0],
      ['postgres', 101],
    ]);
  });
});

describe('user and group lookups', () => {
  it('agree with the system for this process', () => {
    const uid = process.geteuid!();
    const gid = process.getegid!();
    const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
    const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
    expect(userName(uid)).toBe(user);
    expect(groupName(gid)).toBe(group);
    expect(userId(user)).toBe(uid);
    expect(groupId(group)).toBe(gid);
    expect(processOwner()).toBe(`${user}:${group}`);
  });

  it('answers null or undefined for unknown ids and names, reading the files again on a name miss', () => {
    expect(userName(2_000_000_000)).toBeNull();
    expect(groupName(2_000_000_000)).toBeNull();
    expect(userId('no-such-user-pgkeep')).toBeUndefined();
    expect(groupId('no-such-group-pgkeep')).toBeUndefined();
    resetUserGroupCache();
    expect(userName(0)).toBe('root');
  });
});
