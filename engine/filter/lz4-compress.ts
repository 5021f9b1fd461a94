import { Filter } from './filter.js';
import { compressBlock } from './lz4-napi-block.js';
import { LZ4_END_MARK, lz4Block, lz4FrameHeader } from './lz4-frame.js';

/**
 * The input of one block. Why 512 KiB and not the frame's 1 MiB maximum: on a pgbench scale-100
 * backup the 1 MiB blocks saved no measurable time and raised a worker's peak from 121-124 MB to
 * 144-155 MB (larger buffers in lz4-napi's per-thread heaps).
 */
export const LZ4_CHUNK_SIZE = 512 * 1024;

/**
 * LZ4 compression into one frame (see lz4-frame.ts): the input is cut into LZ4_CHUNK_SIZE
 * chunks and each chunk becomes one independent block, compressed by lz4-napi in libuv's thread
 * pool while the main thread gathers (and hashes) the next chunk. At most two chunks are held: the one compressing
 * and the one gathering; the filter accepts up to a chunk ahead too (writableHighWaterMark).
 *
 * Why no content checksum (pgBackRest writes one): the manifest already holds the SHA-1 of the
 * plain bytes (checksum) and of the stored ones (rck), and restore and verify check them; the
 * frame's XXH32 would be a third checksum of the same bytes, paid for in every backup (5 % of a
 * backup's CPU, measured on pgbench scale 100) and every restore. Decoders read frames with or
 * without it.
 *
 * lz4-napi (lz4_flex) has one speed; pgBackRest's level only maps to liblz4's acceleration, so the
 * level is accepted for compatibility and not used. Never use compressSync or compressFrameSync: in
 * lz4-napi 2.10 they leak native memory (about 0.3 MB and 1 MB per 4 MiB call, measured).
 */
export class Lz4CompressFilter extends Filter {
  /** Input gathered until a chunk is full; allocated on first use. */
  private chunk: Buffer | undefined;
  private chunkLength = 0;
  /** The other gathering buffer: the one whose block is being compressed, while `chunk` fills. */
  private spare: Buffer | undefined;
  /** The block being compressed in the thread pool, pushed once the next one starts (or at the end). */
  private inFlight: { readonly chunk: Buffer; readonly compressed: Promise<Buffer> } | undefined;

  constructor() {
    super(undefined, { writableHighWaterMark: LZ4_CHUNK_SIZE });
    this.push(lz4FrameHeader(false));
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
        // That buffer is being compressed: gather into the other one (whose block compress() has pushed).
        [this.chunk, this.spare] = [this.spare, this.chunk];
        this.chunkLength = 0;
      }
    }
  }

  protected override async finish(): Promise<void> {
    if (this.chunkLength > 0) await this.compress(this.chunk!.subarray(0, this.chunkLength));
    await this.pushInFlight();
    this.push(LZ4_END_MARK);
  }

  /**
   * Starts compressing chunk into a block, then waits for the block before it and pushes that one:
   * one block compresses in the thread pool while the main thread gathers (and hashes) the next
   * chunk, and at most two compress at once.
   */
  private async compress(chunk: Buffer): Promise<void> {
    const previous = this.inFlight;
    const compressed = compressBlock(chunk);
    // If the pipeline fails meanwhile nobody awaits this block: its failure must not be unhandled.
    // (Never called in tests: compress only fails on arguments that are not buffers.)
    /* v8 ignore next */
    compressed.catch(() => undefined);
    this.inFlight = { chunk, compressed };
    if (previous !== undefined) this.pushBlock(previous.chunk, await previous.compressed);
  }

  private async pushInFlight(): Promise<void> {
    const last = this.inFlight;
    this.inFlight = undefined;
    if (last !== undefined) this.pushBlock(last.chunk, await last.compressed);
  }

  private pushBlock(chunk: Buffer, compressed: Buffer): void {
    const [first, stored] = lz4Block(chunk, compressed);
    this.push(first);
    // A block stored as it is: a copy, as its chunk may be a gathering buffer about to be refilled.
    if (stored !== undefined) this.push(Buffer.from(stored));
  }
}
