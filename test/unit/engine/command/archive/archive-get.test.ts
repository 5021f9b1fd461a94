import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { pushWalFile } from '../../../../../engine/command/archive-push/push-file.js';
import { runCommand } from '../../../../../engine/command/run.js';
import { newArchiveInfo, saveArchiveInfo } from '../../../../../engine/repo/info/archive-info.js';
import { PosixStorage } from '../../../../../engine/storage/posix/posix-storage.js';
import { ArchiveWorld, SEGMENTS } from './world.js';

let world: ArchiveWorld;
let lines: string[];
const sink = { stdout: (text: string) => lines.push(text), stderr: (text: string) => lines.push(text) };
const segmentDir = () => join(world.repoPath, 'archive', 'main', '15-1', '0000000100000000');

beforeEach(async () => {
  world = new ArchiveWorld({ 'archive-async': 'n', 'log-level-console': 'info' });
  await world.createStanza();
  const repo = { index: 1, storage: new PosixStorage({ basePath: world.repoPath }), stanza: 'main', cipherPass: undefined };
  world.segment(SEGMENTS[0], SEGMENTS[0], { ready: false });
  await pushWalFile(join(world.walDir, SEGMENTS[0]), repo, { compressType: 'lz4', headerCheck: true });
  lines = [];
});
afterEach(() => world.destroy());

const get = (name: string | undefined, destination = join(world.root, 'RECOVERYXLOG'), extra: string[] = []) =>
  runCommand(
    [
      `--config=${world.configPath}`,
      '--stanza=main',
      ...extra,
      'archive-get',
      ...(name === undefined ? [] : [name, destination]),
    ],
    { sink, env: {}, uid: 1000 },
  );

describe('archive-get (synchronous)', () => {
  it('writes the segment, checked against its SHA-1 (exit 0), or says it is not there (exit 1)', async () => {
    expect(await get(SEGMENTS[0])).toBe(0);
    expect(
      createHash('sha1')
        .update(readFileSync(join(world.root, 'RECOVERYXLOG')))
        .digest('hex'),
    ).toBe(
      createHash('sha1')
        .update(readFileSync(join(world.walDir, SEGMENTS[0])))
        .digest('hex'),
    );
    expect(lines.join('')).toContain(`found ${SEGMENTS[0]} in the repo1: 15-1 archive`);
    expect(await get(SEGMENTS[1])).toBe(1);
    expect(await get('00000005.history')).toBe(1);
    expect(lines.join('')).toContain(`unable to find ${SEGMENTS[1]} in the archive`);
  });

  it('a segment whose content is not what its name says stops recovery (139); nothing is left at the destination', async () => {
    const [stored] = readdirSync(segmentDir());
    renameSync(join(segmentDir(), stored!), join(segmentDir(), `${SEGMENTS[0]}-${'0'.repeat(40)}.lz4`));
    expect(await get(SEGMENTS[0])).toBe(139);
    expect(lines.join('')).toContain(`not the ${'0'.repeat(40)} of its name`);
    expect(readdirSync(world.root)).not.toContain('RECOVERYXLOG');
  });

  it('a destination it cannot write is that error, not corruption', async () => {
    writeFileSync(join(world.root, 'file'), '');
    expect(await get(SEGMENTS[0], join(world.root, 'file', 'RECOVERYXLOG'))).toBe(47);
  });

  it('two copies with different content are duplicates; another repository may still have it', async () => {
    const [stored] = readdirSync(segmentDir());
    writeFileSync(join(segmentDir(), `${SEGMENTS[0]}-${'1'.repeat(40)}.lz4`), readFileSync(join(segmentDir(), stored!)));
    expect(await get(SEGMENTS[0])).toBe(45);
    expect(lines.join('')).toContain(`duplicates found in the repo1 archive for WAL segment ${SEGMENTS[0]}`);
    // repo2 has the stanza and the segment: found there after repo1's warning
    world.writeConfig({ 'archive-async': 'n', 'log-level-console': 'info', 'repo2-path': join(world.root, 'repo2') });
    const repo2 = new PosixStorage({ basePath: join(world.root, 'repo2') });
    mkdirSync(join(world.root, 'repo2'));
    await saveArchiveInfo(repo2, 'archive/main/archive.info', newArchiveInfo(world.systemId, '15'));
    await pushWalFile(
      join(world.walDir, SEGMENTS[0]),
      { index: 2, storage: repo2, stanza: 'main', cipherPass: undefined },
      {
        compressType: 'gz',
        headerCheck: true,
      },
    );
    lines = [];
    expect(await get(SEGMENTS[0])).toBe(0);
    expect(lines.join('')).toMatch(/WARN: repo1: duplicates found[^]*found 000000010000000000000001 in the repo2: 15-1 archive/);
  });

  it('needs the WAL file name', async () => {
    expect(await get(undefined)).toBe(43);
    expect(lines.join('')).toContain('WAL file name is required');
  });
});
