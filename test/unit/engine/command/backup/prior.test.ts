import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { choosePrior, findResumable, type ResumeCriteria } from '../../../../../engine/command/backup/prior.js';
import type { StanzaRepo } from '../../../../../engine/command/common/stanza-repo.js';
import { parseBackupInfo, type BackupInfo } from '../../../../../engine/repo/info/backup-info.js';
import { parseManifest, saveManifestFile, type Manifest } from '../../../../../engine/repo/manifest/manifest.js';
import { PosixStorage } from '../../../../../engine/storage/posix/posix-storage.js';
import { captureLog } from '../../exec/helpers.js';
import { example } from '../../repo/examples.js';

/** pgBackRest's backup.info: fulls 045300F, 045304F, 045308F, its incr 045308F_045959I, then full 050114F (all db-id 1). */
const info = (): BackupInfo => parseBackupInfo(example('backup.info'), 'backup.info');

describe('choosePrior', () => {
  it('a full has no prior; a diff builds on the latest full, an incr on the latest backup', () => {
    expect(choosePrior(info(), 'full')).toEqual({ type: 'full', prior: undefined });
    const withIncrLast = info();
    withIncrLast.backups.splice(4, 1); // the incr is now the latest
    expect(choosePrior(withIncrLast, 'diff').prior?.label).toBe('20261121-045308F');
    expect(choosePrior(withIncrLast, 'incr').prior?.label).toBe('20261121-045308F_20261121-045959I');
  });

  it('backups of an older cluster are not built on: with none of the current one, the backup becomes full with a warning', async () => {
    const upgraded = { ...info(), currentId: 2 };
    const { value, records } = await captureLog(async () => choosePrior(upgraded, 'incr'));
    expect(value).toEqual({ type: 'full', prior: undefined });
    expect(records.map((record) => `${record.level}: ${record.message}`)).toEqual([
      'warn: no prior backup exists, incr backup has been changed to full',
    ]);
  });
});

describe('findResumable', () => {
  let root: string;
  let repo: StanzaRepo;
  /** The checkpoint of a full lz4 online backup of the example cluster (pgBackRest's own manifest). */
  const checkpoint = parseManifest(example('full-lz4.backup.manifest'), 'full-lz4.backup.manifest');
  const criteria: ResumeCriteria = {
    type: 'full',
    prior: undefined,
    compressType: 'lz4',
    online: true,
    systemId: checkpoint.db.systemId,
    version: checkpoint.db.version,
  };
  const backupPath = (label: string) => join(root, 'backup', 'main', label);

  /** A backup directory left by an interrupted backup, with `manifest` as its checkpoint. */
  async function leftover(label: string, change: (manifest: Manifest) => Manifest = (manifest) => manifest): Promise<void> {
    const manifest = change({ ...checkpoint, backup: { ...checkpoint.backup, label } });
    await saveManifestFile(repo.storage, `backup/main/${label}/backup.manifest`, manifest, { copyOnly: true });
    writeFileSync(join(backupPath(label), 'stored-file'), 'x');
  }

  async function find(resume = true) {
    const { value, error, records } = await captureLog(() => findResumable(repo, info(), criteria, resume));
    if (error !== undefined) throw error;
    return { resumable: value, warnings: records.filter((record) => record.level === 'warn').map((record) => record.message) };
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pgkeep-prior-'));
    repo = { index: 1, stanza: 'main', storage: new PosixStorage({ basePath: root }), cipherPass: undefined };
    // The backups backup.info lists are never touched, whatever their directories hold.
    for (const label of info().backups.map((backup) => backup.label)) mkdirSync(backupPath(label), { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('resumes the newest leftover whose checkpoint matches, and removes older leftovers', async () => {
    await leftover('20261121-060000F');
    await leftover('20261121-070000F');
    const { resumable, warnings } = await find();
    expect(resumable?.label).toBe('20261121-070000F');
    expect(resumable?.manifest.backup.label).toBe('20261121-070000F');
    expect(resumable?.manifest.files.size).toBe(checkpoint.files.size);
    expect(warnings).toEqual([
      "backup '20261121-060000F' cannot be resumed: a newer backup was started after it; it will be removed",
    ]);
    expect(existsSync(backupPath('20261121-070000F'))).toBe(true);
    expect(existsSync(backupPath('20261121-060000F'))).toBe(false);
    for (const backup of info().backups) expect(existsSync(backupPath(backup.label))).toBe(true);
  });

  it('with resume off, every leftover is removed', async () => {
    await leftover('20261121-070000F');
    const { resumable, warnings } = await find(false);
    expect(resumable).toBeUndefined();
    expect(warnings).toEqual([
      "backup '20261121-070000F' cannot be resumed: a newer backup was started after it; it will be removed",
    ]);
    expect(existsSync(backupPath('20261121-070000F'))).toBe(false);
  });

  // Each leftover is the only one, so the reason given is its own.
  const refusals: [string, (manifest: Manifest) => Manifest, string][] = [
    ['of another type', (m) => ({ ...m, backup: { ...m.backup, type: 'incr' } }), 'it is an incr backup, this one is full'],
    [
      'with another prior',
      (m) => ({ ...m, backup: { ...m.backup, prior: '20261121-045308F' } }),
      "its prior backup is 20261121-045308F, this one's is none",
    ],
    [
      'with another compression',
      (m) => ({ ...m, options: { ...m.options, compressType: 'gz' } }),
      'it is compressed with gz, this one with lz4',
    ],
    ['offline', (m) => ({ ...m, options: { ...m.options, online: false } }), 'it was online and this one is not, or the reverse'],
    ['of another system id', (m) => ({ ...m, db: { ...m.db, systemId: 42n } }), 'it is of another database'],
    ['of another version', (m) => ({ ...m, db: { ...m.db, version: '14' } }), 'it is of another database'],
  ];
  it.each(refusals)('a checkpoint %s is not resumed but removed', async (_what, change, reason) => {
    await leftover('20261121-070000F', change);
    const { resumable, warnings } = await find();
    expect(resumable).toBeUndefined();
    expect(warnings).toEqual([`backup '20261121-070000F' cannot be resumed: ${reason}; it will be removed`]);
    expect(existsSync(backupPath('20261121-070000F'))).toBe(false);
  });

  it('a complete backup missing from backup.info, a directory without checkpoint and an unreadable checkpoint are removed, each with its reason', async () => {
    await leftover('20261121-070000F');
    writeFileSync(join(backupPath('20261121-070000F'), 'backup.manifest'), 'complete');
    mkdirSync(backupPath('20261121-080000F'));
    await leftover('20261121-090000F');
    writeFileSync(join(backupPath('20261121-090000F'), 'backup.manifest.copy'), '[backrest]\nbackrest-format=5\n');
    const { resumable, warnings } = await find();
    expect(resumable).toBeUndefined();
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(
      /^backup '20261121-090000F' cannot be resumed: its checkpoint manifest cannot be read \(.*backup\.manifest\.copy.*\); it will be removed$/,
    );
    expect(warnings.slice(1)).toEqual([
      "backup '20261121-080000F' cannot be resumed: it has no checkpoint manifest; it will be removed",
      "backup '20261121-070000F' cannot be resumed: it is complete but missing from backup.info; it will be removed",
    ]);
    for (const label of ['20261121-070000F', '20261121-080000F', '20261121-090000F'])
      expect(existsSync(backupPath(label))).toBe(false);
  });

  it('directories that are not backup labels are left alone', async () => {
    mkdirSync(backupPath('backup.history'));
    mkdirSync(backupPath('not-a-label'));
    const { resumable, warnings } = await find();
    expect(resumable).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(existsSync(backupPath('backup.history'))).toBe(true);
    expect(existsSync(backupPath('not-a-label'))).toBe(true);
  });
});
