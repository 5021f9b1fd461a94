import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

import { compress } from 'lz4-napi';

import type { WritableCompressType } from '../../filter/compress-type.js';
import { LZ4_FRAME_MAGIC } from '../../filter/lz4-format.js';
import { runPipeline } from '../../filter/pipeline.js';
import { Xxh32 } from '../../filter/xxh32.js';

/** WAL is read 1 MiB at a time: a 16 MiB segment in 16 reads, not 256 (measured 4-10x faster than 64 KiB). */
export const WAL_READ_CHUNK = 1024 * 1024;

/**
 * The one LZ4 frame a WAL file becomes: FLG 0x64 (version 01, independent blocks, content
 * checksum), BD 0x60 (blocks of at most 1 MiB), one block per 1 MiB chunk, end mark, XXH32 of
 * the content. Any LZ4 frame decoder reads it (liblz4 in pgBackRest and `lz4 -d`, ours).
 */
const FRAME_FLG = 0x64;
const FRAME_BD = 0x60;
const UNCOMPRESSED_BLOCK = 0x80000000;

/** What the copy measured: the SHA-1 of the plain bytes, which names the stored segment. */
export interface WalCopy {
  readonly sha1: string;
}

/**
 * Copies a WAL file into `write` compressed, hashing the plain bytes on the way: one read of the
 * file. With lz4, archive-push's hot loop, it has a loop of its own instead of the general filter
 * pipeline: the file is read into two or three reused 1 MiB buffers; each chunk is hashed (SHA-1
 * for the name, XXH32 for the frame's content checksum) and compressed as one raw LZ4 block in the
 * thread pool while the next is read; the blocks go out in order inside one frame written here.
 *
 * Why not Lz4CompressFilter (1 MiB frames from lz4-napi's compressFrame): lz4-napi computes the
 * content checksum itself, and slowly. Measured on 2 cores with 16 MiB pgbench segments, in
 * memory: frames with checksum 30.5 ms of CPU per segment, raw blocks plus our XXH32 21.6 ms; a
 * whole copy (read, hash, compress) 4 at a time: 45-53 ms through the pipeline, 36-40 ms here,
 * where pgbackrest 2.45 spends about 42 ms per segment. The content checksum stays: pgBackRest
 * writes one, and its archive-get relies on it to notice damage.
 * Memory is bounded by the buffers, whatever the segment size.
 */
export async function copyWal(
  walPath: string,
  compressType: WritableCompressType,
  level: number,
  write: (data: AsyncIterable<Uint8Array>) => Promise<void>,
): Promise<WalCopy> {
  if (compressType !== 'lz4') {
    const results = await runPipeline(
      createReadStream(walPath, { highWaterMark: WAL_READ_CHUNK }),
      [
        { type: 'sha1', resultName: 'sha1' },
        { type: 'compress', compressType, level },
      ],
      write,
    );
    return { sha1: String(results['sha1']) };
  }
  const hash = createHash('sha1');
  const handle = await open(walPath, 'r');
  try {
    await write(lz4Frame(handle, hash));
  } finally {
    await handle.close();
  }
  return { sha1: hash.digest('hex') };
}

interface PendingBlock {
  /** The read buffer holding the chunk: reused once the block is written. */
  readonly buffer: Buffer;
  readonly chunk: Buffer;
  /** lz4-napi's compress: a 4-byte little-endian plain size, then the raw LZ4 block. */
  readonly block: Promise<Buffer>;
}

/** The frame of a file, in pieces: header, blocks compressed two at a time while the next chunk is read, end. */
async function* lz4Frame(handle: FileHandle, hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  const content = new Xxh32();
  yield frameHeader();
  const spare: Buffer[] = [];
  const pending: PendingBlock[] = [];
  for (let position = 0; ;) {
    const buffer = spare.pop() ?? Buffer.allocUnsafeSlow(WAL_READ_CHUNK);
    // A regular file gives whole chunks up to its end.
    const { bytesRead } = await handle.read(buffer, 0, WAL_READ_CHUNK, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const chunk = buffer.subarray(0, bytesRead);
    hash.update(chunk);
    content.update(chunk);
    const block = compress(chunk);
    // If the copy fails meanwhile nobody awaits this block: its failure must not be unhandled.
    // (Never called in tests: compress only fails on arguments that are not buffers.)
    /* v8 ignore next */
    block.catch(() => undefined);
    pending.push({ buffer, chunk, block });
    if (pending.length >= 2) yield* blockOut(pending.shift()!, spare);
    if (bytesRead < WAL_READ_CHUNK) break;
  }
  while (pending.length > 0) yield* blockOut(pending.shift()!, spare);
  const end = Buffer.alloc(8); // end mark (0), then the content checksum
  end.writeUInt32LE(content.digest() >>> 0, 4);
  yield end;
}

/** One block: compressed, or stored as it is when compression would not make it smaller. */
async function* blockOut(pending: PendingBlock, spare: Buffer[]): AsyncGenerator<Buffer> {
  const output = await pending.block;
  const compressedSize = output.length - 4;
  if (compressedSize < pending.chunk.length) {
    // The 4 bytes lz4-napi put in front become the block's size field: no copy.
    output.writeUInt32LE(compressedSize, 0);
    yield output;
  } else {
    const size = Buffer.alloc(4);
    size.writeUInt32LE((pending.chunk.length | UNCOMPRESSED_BLOCK) >>> 0, 0);
    yield size;
    // The sink is done with a chunk before it asks for the next: the buffer can be reused after.
    yield pending.chunk;
  }
  spare.push(pending.buffer);
}

function frameHeader(): Buffer {
  const header = Buffer.alloc(7);
  header.writeUInt32LE(LZ4_FRAME_MAGIC, 0);
  header[4] = FRAME_FLG;
  header[5] = FRAME_BD;
  header[6] = (new Xxh32().update(header.subarray(4, 6)).digest() >>> 8) & 0xff;
  return header;
}
