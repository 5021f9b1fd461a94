import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { compress } from 'lz4-napi';

/**
 * lz4-napi's compress (a raw LZ4 block, see lz4-frame.ts), with its garbage collected as it goes.
 *
 * Why: each call returns a new native buffer whose memory V8 does not count in full, so V8 feels
 * no pressure to collect the dead ones and a worker's resident memory grew with the data it
 * compressed: a worker compressing 856 MB of a pgbench index reached 153 MB, and 8000 calls in a
 * loop 350 MB. The buffers die young: a minor collection (about 0.1 ms) every COLLECT_EVERY bytes
 * frees them, and the same loop stays at 134 MB, its 89 MB start included, whatever the number of calls.
 */
export function compressBlock(data: Buffer): Promise<Buffer> {
  sinceCollect += data.length;
  if (sinceCollect >= COLLECT_EVERY) {
    sinceCollect = 0;
    collectYoung();
  }
  return compress(data);
}

/** Plain bytes compressed between two minor collections. */
export const COLLECT_EVERY = 8 * 1024 * 1024;

let sinceCollect = 0;

/**
 * A minor collection, with V8's gc() obtained without starting Node with --expose-gc: the flag set
 * at run time exposes gc in contexts created after it, and one is made for it. This way every
 * process that compresses (forked workers, Electron's utility processes, the CLI) collects,
 * whatever flags it was started with. Made on first use (about 3 ms), not when a process that may
 * never compress loads this module.
 */
function collectYoung(): void {
  gc ??= exposeGc();
  gc({ type: 'minor' });
}

let gc: ((options: { type: 'minor' }) => void) | undefined;

function exposeGc(): (options: { type: 'minor' }) => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as (options: { type: 'minor' }) => void;
}
