import { PgkeepError } from '../error/pgkeep-error.js';
import { decodeBlock } from './lz4-block.js';
import { LZ4_BLOCK_MAX_SIZE, LZ4_FRAME_MAGIC, LZ4_LEGACY_MAGIC, LZ4_SKIPPABLE_MAGIC, LZ4_SKIPPABLE_MASK } from './lz4-format.js';
import { Xxh32, xxh32 } from './xxh32.js';

/**
 * A streaming decoder of the LZ4 frame format (lz4's doc/lz4_Frame_format.md): any number of
 * concatenated frames and skippable frames; linked or independent blocks of any maximum size;
 * compressed and stored blocks; block checksums, content checksum and content size verified.
 * Dictionary ids (never written by lz4, pgBackRest or pgkeep) are refused.
 *
 * Memory is bounded whatever the data size: one output buffer (the 64 KiB history linked blocks
 * need plus room for at least one block) and, only when a block arrives split across input
 * chunks, one staging buffer of the block's size. Decoded bytes are handed out as subarrays of the
 * output buffer, which is never written again once handed out (a fresh one is allocated instead).
 */

/** History a linked block may refer to (the largest offset an LZ4 match can have, rounded up). */
const WINDOW = 64 * 1024;
/** Room for decoded data in one output buffer, when blocks are small: fewer, larger emitted chunks. */
const OUTPUT_ROOM = 1024 * 1024;

const enum State {
  Magic,
  SkipSize,
  Skip,
  Descriptor,
  DescriptorRest,
  BlockSize,
  BlockData,
  ContentChecksum,
}

interface FrameInfo {
  readonly linked: boolean;
  readonly blockChecksum: boolean;
  readonly contentChecksum: boolean;
  readonly contentSize: bigint | undefined;
  readonly blockMax: number;
}

export class Lz4FrameDecoder {
  /** Where we are in the input grammar, and how many bytes the current field needs. */
  private state = State.Magic;
  private readonly field = new Uint8Array(20);
  private fieldLength = 0;
  private fieldNeed = 4;
  private skipLeft = 0;

  private frame: FrameInfo | undefined;
  private frames = 0;
  private frameDecoded = 0;
  private contentHash: Xxh32 | undefined;

  /** The block being received: its size as stored, whether it is stored uncompressed. */
  private blockSize = 0;
  private blockStored = false;
  /** Bytes of a block split across input chunks. */
  private stage: Uint8Array | undefined;
  private stageLength = 0;

  /** Output: decoded bytes live in out[historyStart, pos); out[emitted, pos) is not handed out yet. */
  private out: Buffer = Buffer.alloc(0);
  private pos = 0;
  private emitted = 0;
  private historyStart = 0;

  /** @param name the file being decoded, for error messages */
  constructor(private readonly name?: string) {}

  /** Decodes a chunk of input; emit receives decoded bytes (which the decoder never changes afterwards). */
  decode(chunk: Uint8Array, emit: (data: Buffer) => void): void {
    let at = 0;
    const end = chunk.length;
    while (at < end) {
      if (this.state === State.BlockData) {
        at = this.receiveBlock(chunk, at, emit);
      } else if (this.state === State.Skip) {
        const take = Math.min(this.skipLeft, end - at);
        this.skipLeft -= take;
        at += take;
        if (this.skipLeft === 0) this.expect(State.Magic, 4);
      } else {
        const take = Math.min(this.fieldNeed - this.fieldLength, end - at);
        this.field.set(chunk.subarray(at, at + take), this.fieldLength);
        this.fieldLength += take;
        at += take;
        if (this.fieldLength === this.fieldNeed) this.fieldComplete(emit);
      }
    }
    this.flush(emit);
  }

  /** Checks that the input ended at the end of a frame. */
  finish(): void {
    if (this.state !== State.Magic || this.fieldLength !== 0 || this.frames === 0) {
      throw this.error('unexpected end of lz4 data', 'the file is truncated: restore it from another copy or backup');
    }
  }

  private expect(state: State, need: number): void {
    this.state = state;
    this.fieldNeed = need;
    this.fieldLength = 0;
  }

  private fieldComplete(emit: (data: Buffer) => void): void {
    const f = this.field;
    switch (this.state) {
      case State.Magic: {
        const magic = readU32(f, 0);
        if (magic === LZ4_FRAME_MAGIC) this.expect(State.Descriptor, 2);
        else if ((magic & LZ4_SKIPPABLE_MASK) >>> 0 === LZ4_SKIPPABLE_MAGIC) this.expect(State.SkipSize, 4);
        else if (magic === LZ4_LEGACY_MAGIC) {
          throw new PgkeepError('FeatureNotSupported', `legacy lz4 format (lz4 -l) is not supported${this.where()}`, {
            hint: 'recompress the file with the lz4 frame format (lz4 without -l)',
          });
        } else {
          throw this.error(
            `bad lz4 magic number 0x${magic.toString(16).padStart(8, '0')}${this.frames > 0 ? ' after the end of an lz4 frame' : ''}`,
            'the file is not lz4 compressed or is corrupt',
          );
        }
        break;
      }
      case State.SkipSize:
        this.skipLeft = readU32(f, 0);
        if (this.skipLeft === 0) this.expect(State.Magic, 4);
        else this.state = State.Skip;
        break;
      case State.Descriptor: {
        const flg = f[0]!;
        if (flg >>> 6 !== 1) throw this.error(`unsupported lz4 frame version ${flg >>> 6}`);
        if ((flg & 0x02) !== 0 || (f[1]! & 0x8f) !== 0) throw this.error('reserved bits are set in an lz4 frame descriptor');
        const rest = ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1;
        this.fieldNeed = 2 + rest;
        this.state = State.DescriptorRest;
        break;
      }
      case State.DescriptorRest:
        this.startFrame();
        break;
      case State.BlockSize: {
        const value = readU32(f, 0);
        if (value === 0) this.endFrame(emit);
        else {
          this.blockStored = (value & 0x80000000) !== 0;
          this.blockSize = value & 0x7fffffff;
          if (this.blockSize > this.frame!.blockMax) {
            throw this.error(`lz4 block of ${this.blockSize} bytes exceeds the frame's maximum of ${this.frame!.blockMax}`);
          }
          this.state = State.BlockData;
          this.stageLength = 0;
        }
        break;
      }
      case State.ContentChecksum: {
        const expected = readU32(f, 0);
        const actual = this.contentHash!.digest();
        if (expected !== actual) {
          throw new PgkeepError(
            'Checksum',
            `lz4 content checksum mismatch${this.where()}: expected ${hex(expected)}, got ${hex(actual)}`,
            {
              hint: 'the file is corrupt: restore it from another copy or backup',
            },
          );
        }
        this.frameDone();
        break;
      }
      /* c8 ignore next 2 */
      default:
        throw new PgkeepError('Assert', `lz4 decoder in unexpected state ${this.state}`);
    }
  }

  private startFrame(): void {
    const f = this.field;
    const flg = f[0]!;
    const descriptorEnd = this.fieldNeed - 1;
    const headerChecksum = (xxh32(f, 0, 0, descriptorEnd) >>> 8) & 0xff;
    if (headerChecksum !== f[descriptorEnd]) throw this.error('lz4 frame header checksum mismatch', undefined, 'Checksum');
    if ((flg & 0x01) !== 0) {
      throw new PgkeepError('FeatureNotSupported', `lz4 frames with a dictionary id are not supported${this.where()}`);
    }
    const blockMaxId = (f[1]! >>> 4) & 0x07;
    if (blockMaxId < 4) throw this.error(`invalid lz4 block maximum size id ${blockMaxId}`);
    this.frame = {
      linked: (flg & 0x20) === 0,
      blockChecksum: (flg & 0x10) !== 0,
      contentChecksum: (flg & 0x04) !== 0,
      contentSize: (flg & 0x08) !== 0 ? readU64(f, 2) : undefined,
      blockMax: LZ4_BLOCK_MAX_SIZE[blockMaxId]!,
    };
    this.contentHash = this.frame.contentChecksum ? new Xxh32() : undefined;
    this.frameDecoded = 0;
    // Matches never reach into a previous frame.
    this.historyStart = this.pos;
    this.expect(State.BlockSize, 4);
  }

  private endFrame(emit: (data: Buffer) => void): void {
    const frame = this.frame!;
    if (frame.contentSize !== undefined && BigInt(this.frameDecoded) !== frame.contentSize) {
      throw this.error(`lz4 frame holds ${this.frameDecoded} bytes but its header says ${frame.contentSize}`);
    }
    this.flush(emit);
    if (frame.contentChecksum) this.expect(State.ContentChecksum, 4);
    else this.frameDone();
  }

  private frameDone(): void {
    this.frames++;
    this.frame = undefined;
    this.expect(State.Magic, 4);
  }

  /** Takes block bytes from chunk[at...]; decodes the block once it is complete. Returns the new input position. */
  private receiveBlock(chunk: Uint8Array, at: number, emit: (data: Buffer) => void): number {
    const frame = this.frame!;
    const total = this.blockSize + (frame.blockChecksum ? 4 : 0);
    if (this.stageLength === 0 && chunk.length - at >= total) {
      // The whole block is in this chunk: decode it in place, no copy.
      this.decodeBlockFrom(chunk, at, emit);
      return at + total;
    }
    if (this.stage === undefined || this.stage.length < total) this.stage = new Uint8Array(Math.max(total, frame.blockMax + 4));
    const take = Math.min(total - this.stageLength, chunk.length - at);
    this.stage.set(chunk.subarray(at, at + take), this.stageLength);
    this.stageLength += take;
    if (this.stageLength === total) {
      this.decodeBlockFrom(this.stage, 0, emit);
      this.stageLength = 0;
    }
    return at + take;
  }

  private decodeBlockFrom(src: Uint8Array, start: number, emit: (data: Buffer) => void): void {
    const frame = this.frame!;
    const srcEnd = start + this.blockSize;
    if (frame.blockChecksum) {
      const expected = readU32(src, srcEnd);
      const actual = xxh32(src, 0, start, srcEnd);
      if (expected !== actual) {
        throw new PgkeepError(
          'Checksum',
          `lz4 block checksum mismatch${this.where()}: expected ${hex(expected)}, got ${hex(actual)}`,
          {
            hint: 'the file is corrupt: restore it from another copy or backup',
          },
        );
      }
    }
    this.makeRoom(frame, emit);
    const blockStart = this.pos;
    let end: number;
    if (this.blockStored) {
      this.out.set(src.subarray(start, srcEnd), blockStart);
      end = blockStart + this.blockSize;
    } else {
      const windowStart = frame.linked ? this.historyStart : blockStart;
      end = decodeBlock(src, start, srcEnd, this.out, blockStart, blockStart + frame.blockMax, windowStart);
      if (end < 0) throw this.error('corrupt lz4 block', 'the file is corrupt: restore it from another copy or backup');
    }
    this.contentHash?.update(this.out, blockStart, end);
    this.frameDecoded += end - blockStart;
    this.pos = end;
    this.state = State.BlockSize;
    this.fieldNeed = 4;
    this.fieldLength = 0;
  }

  /** Makes sure one more block fits after pos; moves to a fresh output buffer keeping the history linked blocks need. */
  private makeRoom(frame: FrameInfo, emit: (data: Buffer) => void): void {
    if (this.pos + frame.blockMax <= this.out.length) return;
    this.flush(emit);
    const keep = frame.linked ? Math.min(WINDOW, this.pos - this.historyStart) : 0;
    const size = WINDOW + Math.max(frame.blockMax, OUTPUT_ROOM);
    const next = Buffer.allocUnsafe(size);
    if (keep > 0) next.set(this.out.subarray(this.pos - keep, this.pos), 0);
    this.out = next;
    this.historyStart = 0;
    this.pos = keep;
    this.emitted = keep;
  }

  private flush(emit: (data: Buffer) => void): void {
    if (this.pos > this.emitted) {
      emit(this.out.subarray(this.emitted, this.pos));
      this.emitted = this.pos;
    }
  }

  private where(): string {
    return this.name === undefined ? '' : ` in '${this.name}'`;
  }

  private error(message: string, hint?: string, name: 'Format' | 'Checksum' = 'Format'): PgkeepError {
    return new PgkeepError(name, `${message}${this.where()}`, {
      hint: hint ?? 'the file is corrupt: restore it from another copy or backup',
    });
  }
}

function readU32(data: Uint8Array, at: number): number {
  return (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;
}

function readU64(data: Uint8Array, at: number): bigint {
  return BigInt(readU32(data, at)) | (BigInt(readU32(data, at + 4)) << 32n);
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}
