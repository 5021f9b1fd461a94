import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { pushOptions, pushPlan, pushToRepos } from '../../../../../engine/command/archive-push/push-repos.js';
import { log, type LogRecord } from '../../../../../engine/log/logger.js';
import { newArchiveInfo, saveArchiveInfo } from '../../../../../engine/repo/info/archive-info.js';
import { PosixStorage } from '../../../../../engine/storage/posix/posix-storage.js';
import { ArchiveWorld, SEGMENTS } from './world.js';

let world: ArchiveWorld;
let records: LogRecord[];
let unsubscribe: () => void;
const repo2 = () => join(world.root, 'repo2');
const stored = (repoPath: string) => {
  const dir = join(repoPath, 'archive', 'main', '15-1', '0000000100000000');
  return existsSync(dir) ? readdirSync(dir) : [];
};

beforeEach(async () => {
  world = new ArchiveWorld();
  world.writeConfig({ 'archive-async': 'n', 'repo2-path': repo2() });
  await world.createStanza();
  world.segment(SEGMENTS[0]);
  records = [];
  unsubscribe = log.subscribe((record) => records.push(record));
  log.configure({ console: 'off', stderr: 'off', file: 'off', timestamp: false, processId: 0 });
});
afterEach(() => {
  unsubscribe();
  world.destroy();
});

describe('pushing to several repositories', () => {
  it('every repository gets the file', async () => {
    mkdirSync(repo2());
    await saveArchiveInfo(
      new PosixStorage({ basePath: repo2() }),
      'archive/main/archive.info',
      newArchiveInfo(world.systemId, '15'),
    );
    const config = world.config('archive-push', [SEGMENTS[0]]);
    const plan = await pushPlan(config, await pushOptions(config));
    expect(await pushToRepos(join(world.walDir, SEGMENTS[0]), SEGMENTS[0], plan)).toEqual([]);
    expect(stored(world.repoPath)).toHaveLength(1);
    expect(stored(repo2())).toEqual(stored(world.repoPath));
  });

  it('a repository that cannot be used still lets the others get the file; the push then fails', async () => {
    const config = world.config('archive-push', [SEGMENTS[0]]);
    const plan = await pushPlan(config, await pushOptions(config));
    expect(plan.failures.map((failure) => failure.index)).toEqual([2]);
    await expect(pushToRepos(join(world.walDir, SEGMENTS[0]), SEGMENTS[0], plan)).rejects.toMatchObject({
      errorName: 'FileMissing',
    });
    expect(stored(world.repoPath)).toHaveLength(1);
    expect(records).toContainEqual(
      expect.objectContaining({ level: 'error', message: expect.stringMatching(/^repo2: \[FileMissing\]/) }),
    );
  });

  it('a repository failing during the push is reported after the others got the file', async () => {
    mkdirSync(repo2());
    await saveArchiveInfo(
      new PosixStorage({ basePath: repo2() }),
      'archive/main/archive.info',
      newArchiveInfo(world.systemId, '15'),
    );
    const config = world.config('archive-push', [SEGMENTS[0]]);
    const plan = await pushPlan(config, await pushOptions(config));
    // repo1 already has other content under this segment name
    world.segment(SEGMENTS[0], 'other');
    await pushToRepos(join(world.walDir, SEGMENTS[0]), SEGMENTS[0], { ...plan, targets: plan.targets.slice(0, 1) });
    world.segment(SEGMENTS[0]);
    await expect(pushToRepos(join(world.walDir, SEGMENTS[0]), SEGMENTS[0], plan)).rejects.toMatchObject({
      errorName: 'ArchiveDuplicate',
    });
    expect(stored(repo2())).toHaveLength(1);
  });

  it('no usable repository is RepoInvalid listing why', async () => {
    world.writeConfig({ 'archive-async': 'n', 'repo2-path': repo2(), 'compress-type': 'gz' });
    const config = world.config('archive-push', ['--repo1-path=/nonexistent/repo', SEGMENTS[0]]);
    await expect(pushPlan(config, await pushOptions(config))).rejects.toMatchObject({
      errorName: 'RepoInvalid',
      message: expect.stringMatching(/^unable to find a valid repository:\nrepo1: \[FileMissing\][^]*\nrepo2: \[FileMissing\]/),
    });
  });
});
