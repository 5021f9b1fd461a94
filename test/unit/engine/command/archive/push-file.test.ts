import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { existsWarning, pushTarget, pushToTarget, pushWalFile } from '../../../../../engine/command/archive-push/push-file.js';
import type { StanzaRepo } from '../../../../../engine/command/common/stanza-repo.js';
import { decompressFilter } from '../../../../../engine/filter/compress.js';
import { runPipeline } from '../../../../../engine/filter/pipeline.js';
import { PosixStorage } from '../../../../../engine/storage/posix/posix-storage.js';
import { ArchiveWorld, SEGMENTS } from './world.js';

let world: ArchiveWorld;
let repo: StanzaRepo;
const segmentDir = () => join(world.repoPath, 'archive', 'main', '15-1', '0000000100000000');
const options = { compressType: 'lz4' as const, headerCheck: true };

beforeEach(async () => {
  world = new ArchiveWorld();
  await world.createStanza();
  repo = { index: 1, storage: new PosixStorage({ basePath: world.repoPath }), stanza: 'main', cipherPass: undefined };
});
afterEach(() => world.destroy());

async function plain(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await runPipeline(readFileSync(path), [decompressFilter('lz4')], async (data) => {
    for await (const chunk of data) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

describe('pushToTarget', () => {
  it('stores a segment compressed under its name and SHA-1, in one pass, with no temporary file left', async () => {
    const sha1 = world.segment(SEGMENTS[0]);
    const target = await pushTarget(repo, { systemId: world.systemId, version: '15' });
    expect(await pushToTarget(join(world.walDir, SEGMENTS[0]), target, options)).toBe('pushed');
    expect(readdirSync(segmentDir())).toEqual([`${SEGMENTS[0]}-${sha1}.lz4`]);
    expect(await plain(join(segmentDir(), `${SEGMENTS[0]}-${sha1}.lz4`))).toEqual(readFileSync(join(world.walDir, SEGMENTS[0])));
  });

  it('accepts the same segment again as already there, and refuses other content with nothing written', async () => {
    world.segment(SEGMENTS[0]);
    const target = await pushTarget(repo, undefined);
    await pushToTarget(join(world.walDir, SEGMENTS[0]), target, options);
    expect(await pushToTarget(join(world.walDir, SEGMENTS[0]), target, options)).toBe('exists');
    const before = readdirSync(segmentDir());
    world.segment(SEGMENTS[0], 'other content');
    await expect(pushToTarget(join(world.walDir, SEGMENTS[0]), target, options)).rejects.toMatchObject({
      errorName: 'ArchiveDuplicate',
      message: `WAL file '${SEGMENTS[0]}' already exists in the repo1 archive with a different checksum`,
    });
    expect(readdirSync(segmentDir())).toEqual(before);
  });

  it('removes what a killed push of the same segment left, but never a live process file', async () => {
    world.segment(SEGMENTS[0]);
    const target = await pushTarget(repo, undefined);
    // A pid that has exited: a child that ran and ended.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    mkdirSync(segmentDir(), { recursive: true });
    const abandoned = `${SEGMENTS[0]}.pgkeep.tmp.${dead}.0badf00d`;
    const live = `${SEGMENTS[0]}.pgkeep.tmp.${process.pid}.0badf00d`;
    const otherSegment = `${SEGMENTS[1]}.pgkeep.tmp.${dead}.0badf00d`;
    const notOurs = `${SEGMENTS[0]}.pgkeep.tmp.someone.0badf00d`;
    const plainOfPartial = `${SEGMENTS[2]}.pgkeep.tmp.${dead}.0badf00d`;
    for (const name of [abandoned, live, otherSegment, notOurs, plainOfPartial])
      writeFileSync(join(segmentDir(), name), 'partial');
    await pushToTarget(join(world.walDir, SEGMENTS[0]), target, options);
    expect(existsSync(join(segmentDir(), abandoned))).toBe(false);
    expect(existsSync(join(segmentDir(), live))).toBe(true);
    expect(existsSync(join(segmentDir(), otherSegment))).toBe(true);
    expect(existsSync(join(segmentDir(), notOurs))).toBe(true);
    // pushing the .partial of a segment leaves the plain segment's files alone
    writeFileSync(join(world.walDir, `${SEGMENTS[2]}.partial`), readFileSync(join(world.walDir, SEGMENTS[0])));
    expect(await pushToTarget(join(world.walDir, `${SEGMENTS[2]}.partial`), target, options)).toBe('pushed');
    expect(existsSync(join(segmentDir(), plainOfPartial))).toBe(true);
  });

  it('refuses a segment of another cluster (header check) and a cluster that is not the stanza', async () => {
    world.segment(SEGMENTS[0]);
    await world.createStanza(12345n);
    const target = await pushTarget(repo, undefined);
    await expect(pushToTarget(join(world.walDir, SEGMENTS[0]), target, options)).rejects.toMatchObject({
      errorName: 'ArchiveMismatch',
    });
    expect(await pushToTarget(join(world.walDir, SEGMENTS[0]), target, { ...options, headerCheck: false })).toBe('pushed');
    await expect(pushTarget(repo, { systemId: world.systemId, version: '15' })).rejects.toMatchObject({
      errorName: 'ArchiveMismatch',
    });
  });

  it('stores history files as they are, and refuses names that are not WAL', async () => {
    writeFileSync(join(world.walDir, '00000002.history'), '1\t0/1F000000\tno recovery target specified\n');
    expect(await pushWalFile(join(world.walDir, '00000002.history'), repo, options)).toBe('pushed');
    expect(readFileSync(join(world.repoPath, 'archive', 'main', '15-1', '00000002.history'), 'utf8')).toContain('no recovery');
    writeFileSync(join(world.walDir, 'postgresql.conf'), '');
    await expect(pushWalFile(join(world.walDir, 'postgresql.conf'), repo, options)).rejects.toMatchObject({
      errorName: 'ParamInvalid',
    });
  });

  it('removes its temporary file when the rename fails', async () => {
    world.segment(SEGMENTS[0]);
    const target = await pushTarget(repo, undefined);
    const failing: StanzaRepo = {
      ...repo,
      storage: Object.assign(Object.create(repo.storage) as PosixStorage, {
        move: () => Promise.reject(new Error('rename refused')),
      }),
    };
    await expect(pushToTarget(join(world.walDir, SEGMENTS[0]), { ...target, repo: failing }, options)).rejects.toThrow(
      'rename refused',
    );
    expect(readdirSync(segmentDir())).toEqual([]);
  });

  it('words the already-archived warning as pgBackRest does', () => {
    expect(existsWarning(SEGMENTS[0], 2)).toBe(
      `WAL file '${SEGMENTS[0]}' already exists in the repo2 archive with the same checksum\n` +
        'HINT: this is valid in some recovery scenarios but may also indicate a problem',
    );
  });
});
