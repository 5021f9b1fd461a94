import { isPgkeepError } from '../../../../engine/error/pgkeep-error.js';
import type { ErrorName } from '../../../../engine/error/error-table.js';
import { Lz4FrameDecoder } from '../../../../engine/filter/lz4-frame-decoder.js';

/** Decodes input fed in pieces of `piece` bytes; the emitted chunks are kept as given (not copied). */
export function lz4Decode(input: Uint8Array, piece = input.length || 1, name?: string): Buffer {
  const decoder = new Lz4FrameDecoder(name);
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; at += piece) decoder.decode(input.subarray(at, at + piece), (data) => chunks.push(data));
  decoder.finish();
  return Buffer.concat(chunks);
}

/** The PgkeepError that work throws (sync or async); fails when it throws something else or nothing. */
export async function caught(work: () => unknown, name: ErrorName): Promise<Error & { hint?: string | undefined }> {
  let error: unknown;
  try {
    await work();
  } catch (thrown) {
    error = thrown;
  }
  if (!isPgkeepError(error, name)) throw new Error(`expected a ${name} error, got ${String(error)}`, { cause: error });
  return error;
}

/** Compares bytes natively (vitest's toEqual walks big buffers element by element: seconds per MB). */
export function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  return Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected);
}
