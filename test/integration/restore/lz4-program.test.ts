import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, expect, it } from 'vitest';

import { handler } from '../../../engine/command/restore/restore-file.js';
import { isPgkeepError } from '../../../engine/error/pgkeep-error.js';
import type { JobContext } from '../../../engine/exec/job.js';
import { removeDir, tempDir } from '../../harness/temp-dir.js';

const root = tempDir('restore-lz4-program');
afterAll(() => removeDir(root));
const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

it("a changed byte in a pgBackRest-style lz4 frame fails as a checksum error naming the repository file (the lz4 program skips the frame's own checksum)", async () => {
  // A frame as pgBackRest writes it, with a content checksum (the real lz4 program's), large
  // enough to be restored through the program, one byte of its data changed.
  const plain = Buffer.concat([randomBytes(2 << 20), Buffer.alloc(1 << 20, 3)]);
  const framed = execFileSync('lz4', ['-1', '-c', '-q'], { input: plain, maxBuffer: 8 << 20 });
  expect(framed[4]! & 0x04).toBe(0x04);
  framed[1 << 20] ^= 0xff;
  const repoPath = join(root, 'flipped.lz4');
  writeFileSync(repoPath, framed);
  const stagePath = join(root, 'staged');
  const job = {
    kind: 'copy' as const,
    name: 'pg_data/base/1/1',
    repoPath,
    offset: null,
    limit: null,
    repoSize: framed.length,
    compressType: 'lz4',
    stagePath,
    size: plain.length,
    checksum: sha1(plain),
    mode: 0o640,
    uid: undefined,
    gid: undefined,
    mtime: 1_700_000_000,
    bufferSize: 65536,
  };
  const error = await Promise.resolve()
    .then(() => handler(job, { progress: () => undefined } as unknown as JobContext))
    .then(
      () => undefined,
      (caught: unknown) => caught,
    );
  expect(isPgkeepError(error) && error.errorName).toBe('Checksum');
  expect((error as Error).message).toContain(`error restoring 'pg_data/base/1/1': repository file '${repoPath}' gives`);
  expect(() => statSync(stagePath)).toThrow();
});
