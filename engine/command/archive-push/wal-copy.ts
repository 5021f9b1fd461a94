import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

import { encryptPieces } from '../../filter/cipher.js';
import type { WritableCompressType } from '../../filter/compress-type.js';
import { lz4FileFrame } from '../../filter/lz4-file-frame.js';
import { LZ4_MAX_BLOCK_SIZE } from '../../filter/lz4-frame.js';
import { runPipeline } from '../../filter/pipeline.js';

/** WAL is read 1 MiB at a time: a 16 MiB segment in 16 reads, not 256 (measured 4-10x faster than 64 KiB). */
export const WAL_READ_CHUNK = LZ4_MAX_BLOCK_SIZE;

/** What the copy measured: the SHA-1 of the plain bytes, which names the stored segment. */
export interface WalCopy {
  readonly sha1: string;
}

/**
 * Copies a WAL file into `write` compressed, then encrypted with `cipherPass` (archive.info's
 * passphrase, in an encrypted repository), hashing the plain bytes on the way: one read of the
 * file. With lz4, archive-push's hot loop, the file becomes one frame through lz4FileFrame (a loop
 * over reused buffers, not the filter pipeline) with a content checksum: pgBackRest writes one, and
 * its archive-get relies on it to notice damage. Measured on 2 cores with 16 MiB pgbench segments,
 * in memory: lz4-napi's frames with its checksum 30.5 ms of CPU per segment, raw blocks plus our
 * XXH32 21.6 ms; a whole copy (read, hash, compress) 4 at a time: 45-53 ms through the pipeline,
 * 36-40 ms in the loop, where pgbackrest 2.45 spends about 42 ms.
 */
export async function copyWal(
  walPath: string,
  compressType: WritableCompressType,
  level: number,
  write: (data: AsyncIterable<Uint8Array>) => Promise<void>,
  cipherPass?: string,
): Promise<WalCopy> {
  if (compressType !== 'lz4') {
    const results = await runPipeline(
      createReadStream(walPath, { highWaterMark: WAL_READ_CHUNK }),
      [
        { type: 'sha1', resultName: 'sha1' },
        { type: 'compress', compressType, level },
        ...(cipherPass === undefined ? [] : [{ type: 'encrypt' as const, pass: cipherPass }]),
      ],
      write,
    );
    return { sha1: String(results['sha1']) };
  }
  const hash = createHash('sha1');
  const handle = await open(walPath, 'r');
  try {
    const frame = lz4FileFrame(handle, {
      path: walPath,
      blockSize: WAL_READ_CHUNK,
      contentChecksum: true,
      observe: (chunk) => hash.update(chunk),
    });
    await write(cipherPass === undefined ? frame : encryptPieces(frame, cipherPass));
  } finally {
    await handle.close();
  }
  return { sha1: hash.digest('hex') };
}
