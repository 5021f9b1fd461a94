import { compressFrame } from 'lz4-napi';

import { Filter } from './filter.js';

/**
 * LZ4 compression: the input is cut into 512 KiB chunks and each chunk becomes one LZ4 frame
 * (lz4-napi's compressFrame: independent blocks, no content checksum), the frames
 * concatenated. lz4 -d, pgBackRest 2.45 (VERIFIED in repo-format.md 4.2) and our decoder all read
 * several concatenated frames as one stream.
 *
 * Why no content checksum (pgBackRest writes one): the manifest already holds the SHA-1 of the
 * plain bytes (checksum) and of the stored ones (rck), and restore and verify check them; the
 * frame's XXH32 would be a third checksum of the same bytes, paid for in every backup (5 % of a
 * backup's CPU, measured on pgbench scale 100) and every restore. Decoders read frames with or
 * without it.
 *
 * Why not one frame written by us from raw blocks: when our frames carried a content checksum,
 * its XXH32 would have been computed in JavaScript on the main thread; measured then on
 * pgbench-like pages, one core: frames 1.5-2.1 GB/s, raw blocks plus JS XXH32 1.1-1.5 GB/s.
 * Without the checksum that reason is gone; raw blocks have not been measured again.
 *
 * Why 512 KiB: alone, compressFrame is 10-30% faster on 4 MiB chunks, but through the pipeline
 * (with SHA-1 before and after) the difference is lost in the noise, while the native memory
 * lz4_flex keeps per thread-pool thread is not. A backup job streaming 1 GiB peaked at 132 MB
 * RSS with 1 MiB chunks and 102 MB with 512 KiB at the same speed (1.65 s); 4 MiB grew RSS by
 * about 150 MB (bounded either way; see test/integration/filter/memory.test.ts).
 *
 * compressFrame is asynchronous: it runs in libuv's thread pool while the main thread gathers and
 * hashes the next chunk (two gathering buffers; the filter accepts up to a chunk ahead too,
 * writableHighWaterMark).
 *
 * lz4-napi (lz4_flex) has one speed; pgBackRest's level only maps to liblz4's acceleration, so the
 * level is accepted for compatibility and not used. Never use compressFrameSync or compressSync:
 * in lz4-napi 2.10 they leak native memory (about 1 MB and 0.3 MB per 4 MiB call, measured).
 */
export const LZ4_CHUNK_SIZE = 512 * 1024;
/** compressFrame's options for every frame we write. */
export const LZ4_FRAME_OPTIONS = { contentChecksum: false } as const;

export class Lz4CompressFilter extends Filter {
  /** Input gathered until a chunk is full; allocated on first use. */
  private chunk: Buffer | undefined;
  private chunkLength = 0;
  /** The other gathering buffer: the one whose frame is being compressed, while `chunk` fills. */
  private spare: Buffer | undefined;
  /** The frame being compressed in the thread pool, pushed once the next one starts (or at the end). */
  private inFlight: Promise<Buffer> | undefined;
  private frames = 0;

  constructor() {
    super(undefined, { writableHighWaterMark: LZ4_CHUNK_SIZE });
  }

  protected process(data: Buffer): void | Promise<void> {
    // The common case, a read smaller than a chunk that does not fill it: copy, no promise.
    if (this.chunkLength > 0 && this.chunkLength + data.length < LZ4_CHUNK_SIZE) {
      data.copy(this.chunk!, this.chunkLength);
      this.chunkLength += data.length;
      return;
    }
    return this.gather(data);
  }

  private async gather(data: Buffer): Promise<void> {
    let at = 0;
    // A full chunk that arrives in one piece is compressed without a copy (stream chunks are never reused).
    while (this.chunkLength === 0 && data.length - at >= LZ4_CHUNK_SIZE) {
      await this.compress(data.subarray(at, at + LZ4_CHUNK_SIZE));
      at += LZ4_CHUNK_SIZE;
    }
    while (at < data.length) {
      this.chunk ??= Buffer.allocUnsafeSlow(LZ4_CHUNK_SIZE);
      const take = Math.min(LZ4_CHUNK_SIZE - this.chunkLength, data.length - at);
      data.copy(this.chunk, this.chunkLength, at, at + take);
      this.chunkLength += take;
      at += take;
      if (this.chunkLength === LZ4_CHUNK_SIZE) {
        await this.compress(this.chunk);
        // That buffer is being compressed: gather into the other one (whose frame compress() has pushed).
        [this.chunk, this.spare] = [this.spare, this.chunk];
        this.chunkLength = 0;
      }
    }
  }

  protected override async finish(): Promise<void> {
    // Empty input still gets one (empty) frame: an lz4 file always holds at least one.
    if (this.chunkLength > 0 || this.frames === 0)
      await this.compress((this.chunk ?? Buffer.alloc(0)).subarray(0, this.chunkLength));
    this.push(await this.inFlight!);
  }

  /**
   * Starts compressing data into a frame, then waits for the frame before it and pushes that one:
   * one frame compresses in the thread pool while the main thread gathers (and hashes) the next
   * chunk, and at most two compress at once.
   */
  private async compress(data: Buffer): Promise<void> {
    const previous = this.inFlight;
    this.inFlight = compressFrame(data, LZ4_FRAME_OPTIONS);
    // If the pipeline fails meanwhile nobody awaits this frame: its failure must not be unhandled.
    // (Never called in tests: compressFrame only fails on arguments that are not buffers.)
    /* v8 ignore next */
    this.inFlight.catch(() => undefined);
    this.frames++;
    if (previous !== undefined) this.push(await previous);
  }
}
