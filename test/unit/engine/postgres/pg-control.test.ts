import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { isPgkeepError } from '../../../../engine/error/pgkeep-error.js';
import { crc32c } from '../../../../engine/postgres/crc32c.js';
import { isValidWalSegmentSize, parsePgControl, readPgControl } from '../../../../engine/postgres/pg-control.js';
import { pgVersionByString, pgVersions, type PgVersionFacts } from '../../../../engine/postgres/version-table.js';
import type { Storage } from '../../../../engine/storage/storage.js';
import { pg15ControlData, pg15ControlHex } from './fixtures.js';

interface ControlFields {
  systemId?: bigint;
  state?: number;
  time?: bigint;
  checkpoint?: bigint;
  timeline?: number;
  blockSize?: number;
  relSegSize?: number;
  walBlockSize?: number;
  walSegmentSize?: number;
  dataChecksumVersion?: number;
  catalogVersion?: number;
}

/** Builds the first 512 bytes of a pg_control of this version, with a correct CRC. */
function buildControl(entry: PgVersionFacts, fields: ControlFields = {}): Buffer {
  const data = Buffer.alloc(512);
  const at = entry.control;
  data.writeBigUInt64LE(fields.systemId ?? 7710482956265128591n, at.systemId);
  data.writeUInt32LE(entry.controlVersion, at.controlVersion);
  data.writeUInt32LE(fields.catalogVersion ?? entry.catalogVersion, at.catalogVersion);
  data.writeUInt32LE(fields.state ?? 6, at.state);
  data.writeBigInt64LE(fields.time ?? 1795236709n, at.time);
  data.writeBigUInt64LE(fields.checkpoint ?? 0x3000060n, at.checkpoint);
  data.writeUInt32LE(fields.timeline ?? 1, at.timeline);
  data.writeUInt32LE(fields.blockSize ?? 8192, at.blockSize);
  data.writeUInt32LE(fields.relSegSize ?? 131072, at.relSegSize);
  data.writeUInt32LE(fields.walBlockSize ?? 8192, at.walBlockSize);
  data.writeUInt32LE(fields.walSegmentSize ?? 16777216, at.walSegmentSize);
  data.writeUInt32LE(fields.dataChecksumVersion ?? 1, at.dataChecksumVersion);
  data.writeUInt32LE(crc32c(data, 0, at.crc), at.crc);
  return data;
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

const temp = mkdtempSync(join(tmpdir(), 'pgkeep-pg-control-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function dataDir(name: string, control: Uint8Array | undefined): string {
  const path = join(temp, name);
  mkdirSync(join(path, 'global'), { recursive: true });
  if (control !== undefined) writeFileSync(join(path, 'global', 'pg_control'), control);
  return path;
}

describe('parsePgControl', () => {
  it('reads every field of a real PostgreSQL 15 pg_control as pg_controldata printed them', () => {
    const control = parsePgControl(Buffer.from(pg15ControlHex, 'hex'));
    expect(control.version.version).toBe('15');
    expect(control.controlVersion).toBe(pg15ControlData.controlVersion);
    expect(control.catalogVersion).toBe(pg15ControlData.catalogVersion);
    expect(control.systemIdText).toBe(pg15ControlData.systemId);
    expect(control.systemId).toBe(BigInt(pg15ControlData.systemId));
    expect(control.stateName).toBe(pg15ControlData.state);
    expect(control.state).toBe(1);
    expect(control.time).toBe(pg15ControlData.time);
    expect(control.checkpointText).toBe(pg15ControlData.checkpoint);
    expect(control.checkpoint).toBe(0x17529b0n);
    expect(control.timeline).toBe(pg15ControlData.timeline);
    expect(control.blockSize).toBe(pg15ControlData.blockSize);
    expect(control.relSegSize).toBe(pg15ControlData.relSegSize);
    expect(control.walBlockSize).toBe(pg15ControlData.walBlockSize);
    expect(control.walSegmentSize).toBe(pg15ControlData.walSegmentSize);
    expect(control.dataChecksumVersion).toBe(pg15ControlData.dataChecksumVersion);
    expect(control.pageChecksum).toBe(true);
    expect(control.crc).toBe(0x8a5160a7);
  });

  it('parses a full 8192-byte file as well as its first 512 bytes', () => {
    const full = Buffer.alloc(8192);
    Buffer.from(pg15ControlHex, 'hex').copy(full);
    expect(parsePgControl(full).systemIdText).toBe(pg15ControlData.systemId);
  });

  it('reads each supported version at its own offsets, including 18 whose CRC moved', () => {
    for (const entry of pgVersions) {
      const control = parsePgControl(
        buildControl(entry, { timeline: 3, checkpoint: 0x1a_ff000028n, walSegmentSize: 64 * 1024 * 1024 }),
      );
      expect(control.version).toBe(entry);
      expect(control.timeline).toBe(3);
      expect(control.checkpointText).toBe('1A/FF000028');
      expect(control.walSegmentSize).toBe(64 * 1024 * 1024);
      expect(control.stateName).toBe('in production');
    }
  });

  it('handles a system id above 2^63 and a cluster without data checksums', () => {
    const control = parsePgControl(
      buildControl(pgVersionByString('16'), { systemId: 0xfedcba9876543210n, dataChecksumVersion: 0, state: 9 }),
    );
    expect(control.systemIdText).toBe('18364758544493064720');
    expect(control.pageChecksum).toBe(false);
    expect(control.stateName).toBe('unrecognized status code');
  });

  it('refuses a CRC mismatch as FileInvalid naming the file, with the retry hint', () => {
    const data = Buffer.from(pg15ControlHex, 'hex');
    data[40] = data[40]! ^ 1;
    const error = thrown(() => parsePgControl(data, '/pg/data/global/pg_control'));
    expect(isPgkeepError(error, 'FileInvalid')).toBe(true);
    expect(error).toMatchObject({
      message:
        "pg_control '/pg/data/global/pg_control' has an invalid checksum: calculated 0x" +
        crc32c(data, 0, 288).toString(16).padStart(8, '0') +
        ', stored 0x8a5160a7',
      hint: 'the file may be being written: retry, or the cluster is damaged',
    });
  });

  it('refuses a page size other than 8192, an invalid WAL segment size and a checksum version above 1', () => {
    const entry = pgVersionByString('15');
    expect(thrown(() => parsePgControl(buildControl(entry, { blockSize: 16384 })))).toMatchObject({
      errorName: 'Format',
      message: "pg_control 'global/pg_control' has page size 16384 but pgkeep supports only 8192",
    });
    for (const walSegmentSize of [0, 512 * 1024, 3 * 1024 * 1024, 2048 * 1024 * 1024]) {
      expect(thrown(() => parsePgControl(buildControl(entry, { walSegmentSize })))).toMatchObject({ errorName: 'Format' });
    }
    expect(thrown(() => parsePgControl(buildControl(entry, { dataChecksumVersion: 2 })))).toMatchObject({ errorName: 'Format' });
  });

  it('refuses an unknown version before looking at the CRC', () => {
    const error = thrown(() => parsePgControl(buildControl(pgVersionByString('15'), { catalogVersion: 201809051 })));
    expect(error).toMatchObject({
      errorName: 'VersionNotSupported',
      message: 'unexpected pg_control version 1300 and catalog version 201809051',
    });
  });

  it('refuses a file shorter than 512 bytes', () => {
    expect(thrown(() => parsePgControl(new Uint8Array(100), 'x/global/pg_control'))).toMatchObject({
      errorName: 'FileInvalid',
      message: "'x/global/pg_control' is 100 bytes but pg_control holds at least 512",
    });
  });

  it('validates WAL segment sizes as PostgreSQL does', () => {
    expect(isValidWalSegmentSize(1024 * 1024)).toBe(true);
    expect(isValidWalSegmentSize(1024 * 1024 * 1024)).toBe(true);
    expect(isValidWalSegmentSize(16 * 1024 * 1024)).toBe(true);
    expect(isValidWalSegmentSize(2 * 1024 * 1024 * 1024)).toBe(false);
    expect(isValidWalSegmentSize(24 * 1024 * 1024)).toBe(false);
    expect(isValidWalSegmentSize(1024 * 1024 + 0.5)).toBe(false);
  });
});

/** A Storage that serves a sequence of pg_control contents, one per read. */
function sequenceStorage(contents: Buffer[]): Storage & { reads: number } {
  const storage = {
    reads: 0,
    basePath: '/fake/pgdata',
    resolve: (path: string) => `/fake/pgdata/${path}`,
    readBuffer: async (path: string, options?: { limit?: number }) => {
      expect(path).toBe('global/pg_control');
      expect(options?.limit).toBe(512);
      const data = contents[Math.min(storage.reads, contents.length - 1)]!;
      storage.reads++;
      return data;
    },
  };
  return storage as unknown as Storage & { reads: number };
}

describe('readPgControl', () => {
  const good = Buffer.from(pg15ControlHex, 'hex');
  const torn = (seed: number) => {
    const data = Buffer.from(good);
    data[100] = seed;
    return data;
  };

  it('reads global/pg_control of a data directory path', async () => {
    const control = await readPgControl(dataDir('plain', Buffer.concat([good, Buffer.alloc(8192 - 512)])));
    expect(control.systemIdText).toBe(pg15ControlData.systemId);
  });

  it('retries a torn read until the content parses', async () => {
    const storage = sequenceStorage([torn(1), torn(2), good]);
    const control = await readPgControl(storage, { pauseMs: 1 });
    expect(control.checkpointText).toBe(pg15ControlData.checkpoint);
    expect(storage.reads).toBe(3);
  });

  it('gives up when the same invalid bytes come back twice', async () => {
    const storage = sequenceStorage([torn(1), torn(1), good]);
    await expect(readPgControl(storage, { pauseMs: 1 })).rejects.toMatchObject({
      errorName: 'FileInvalid',
      message: expect.stringContaining("pg_control '/fake/pgdata/global/pg_control' has an invalid checksum") as unknown,
    });
    expect(storage.reads).toBe(2);
  });

  it('gives up after the given number of attempts while the content keeps changing', async () => {
    const storage = sequenceStorage([torn(1), torn(2), torn(3), torn(4), good]);
    await expect(readPgControl(storage, { pauseMs: 1, attempts: 3 })).rejects.toMatchObject({ errorName: 'FileInvalid' });
    expect(storage.reads).toBe(3);
  });

  it('raises a missing file, a short file and an unreadable path at once', async () => {
    await expect(readPgControl(join(temp, 'nothing-here'))).rejects.toMatchObject({
      errorName: 'FileMissing',
      message: `unable to open pg_control '${join(temp, 'nothing-here', 'global', 'pg_control')}': it does not exist`,
      hint: 'is pg1-path the data directory of the cluster?',
    });
    await expect(readPgControl(dataDir('short', good.subarray(0, 300)), { pauseMs: 1, attempts: 2 })).rejects.toMatchObject({
      errorName: 'FileInvalid',
      message: expect.stringContaining('is 300 bytes') as unknown,
    });
    // pg_control is a directory here: open works, read fails with EISDIR.
    const directory = dataDir('directory', undefined);
    mkdirSync(join(directory, 'global', 'pg_control'));
    await expect(readPgControl(directory)).rejects.toMatchObject({ errorName: 'FileRead' });
  });

  it('reports a storage that returns nothing as a missing file', async () => {
    const storage = {
      basePath: '/x',
      resolve: (path: string) => `/x/${path}`,
      readBuffer: async () => undefined,
    } as unknown as Storage;
    await expect(readPgControl(storage)).rejects.toMatchObject({
      errorName: 'FileMissing',
      message: "unable to open pg_control '/x/global/pg_control': it does not exist",
    });
  });
});
