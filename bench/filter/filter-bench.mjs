// Throughput of the streaming filters on pgbench-like heap pages (and random data for lz4).
//
//   node scripts/build.mjs && node bench/filter/filter-bench.mjs [--size MB] [--runs N]
//
// Plain Node (no TypeScript): it imports the built engine from dist/ (or from $PGKEEP_DIST, a
// directory holding engine/filter/...). Each figure is the best of N runs, in MB/s (10^6 bytes of
// plain data per second), on one core. Data is fed in 64 KiB chunks, as a file read gives it.
// The lz4 CLI figures (if lz4 is installed) include its process start and file reading.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { compressFrame, decompressFrame } from 'lz4-napi';

import { heapPages, randomData } from './data.mjs';

const { values } = parseArgs({ options: { size: { type: 'string', default: '256' }, runs: { type: 'string', default: '3' } } });
const MiB = 1024 * 1024;
const size = Number(values.size) * MiB;
const runs = Number(values.runs);
const dist = process.env.PGKEEP_DIST ?? join(import.meta.dirname, '..', '..', 'dist');
const filter = await import(join(dist, 'engine', 'filter', 'index.js'));
const checksum = await import(join(dist, 'engine', 'postgres', 'page-checksum.js'));

async function* pieces(data, piece = 64 * 1024) {
  for (let at = 0; at < data.length; at += piece) yield data.subarray(at, at + piece);
}

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const rows = [];
async function measure(label, bytes, work) {
  let best = Infinity;
  for (let run = 0; run < runs; run++) {
    const start = process.hrtime.bigint();
    await work();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  const rate = bytes / 1e6 / best;
  rows.push([label, rate]);
  console.log(`${label.padEnd(58)} ${rate.toFixed(0).padStart(6)} MB/s`);
}

function hasProgram(name) {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const work = mkdtempSync(join(tmpdir(), 'pgkeep-bench-'));
try {
  console.log(`data: ${size / MiB} MiB of pgbench-like 8 KiB heap pages; best of ${runs} runs`);
  const heap = heapPages(size);

  // Page checksums as a backup validates them: the same pages, each with its correct checksum.
  const checked = Buffer.from(heap);
  for (let at = 0; at < size; at += 8192) checksum.pageChecksumSet(checked.subarray(at, at + 8192), at / 8192);
  await measure('page checksum validation (WebAssembly SIMD, 1 MiB chunks)', size, async () => {
    const validator = new checksum.PageChecksumValidator();
    for (let at = 0; at < size; at += MiB) validator.update(checked.subarray(at, at + MiB));
    if (!(await validator.finish()).valid) throw new Error('page checksum validation failed');
  });
  await measure('page checksum, JavaScript block function (pageChecksum)', size, () => {
    for (let at = 0; at < size; at += 8192) checksum.pageChecksum(checked.subarray(at, at + 8192), at / 8192);
  });

  await measure('sha1 (node:crypto, Sha1Filter)', size, () => filter.runPipeline(pieces(heap), [new filter.Sha1Filter()]));

  let lz4 = Buffer.alloc(0);
  await measure('lz4 compress (Lz4CompressFilter: 1 MiB frames)', size, async () => {
    lz4 = Buffer.alloc(0);
    await filter.runPipeline(pieces(heap), [filter.compressFilter('lz4')], async (data) => {
      lz4 = await collect(data);
    });
  });
  console.log(`  ratio ${(size / lz4.length).toFixed(2)}`);
  await measure('lz4 decompress (ours, Lz4DecompressFilter)', size, () =>
    filter.runPipeline(pieces(lz4), [filter.decompressFilter('lz4')]),
  );
  // lz4-napi's decompressFrame reads only the first of concatenated frames: give it one frame per call.
  const frames = [];
  for (let at = 0; at < size; at += MiB)
    frames.push(await compressFrame(heap.subarray(at, at + MiB), { contentChecksum: false }));
  await measure('lz4 decompress (lz4-napi decompressFrame, per 1 MiB frame)', size, async () => {
    for (const frame of frames) await decompressFrame(frame);
  });

  await measure('backup copy lz4: size+sha1, compress, size+sha1 (copyToRepo)', size, () =>
    filter.copyToRepo(pieces(heap), undefined, { compressType: 'lz4' }),
  );
  await measure('restore copy lz4: decompress, size+sha1 (copyFromRepo)', size, () =>
    filter.copyFromRepo(pieces(lz4), undefined, 'lz4'),
  );

  if (hasProgram('lz4')) {
    const plainFile = join(work, 'heap');
    const cliFile = join(work, 'heap.lz4');
    writeFileSync(plainFile, heap);
    execFileSync('lz4', ['-q', '-f', '-1', '-B4', '-BD', plainFile, cliFile]);
    await measure('lz4 -1 -BD compress (CLI, pgBackRest format)', size, () =>
      execFileSync('lz4', ['-q', '-f', '-1', '-B4', '-BD', plainFile, cliFile]),
    );
    const cliFrame = execFileSync('cat', [cliFile], { maxBuffer: 2 * size });
    await measure('lz4 -d (CLI) of that', size, () => execFileSync('sh', ['-c', 'lz4 -q -d -c "$1" > /dev/null', 'sh', cliFile]));
    await measure('lz4 decompress (ours) of that: 64 KiB linked blocks', size, () =>
      filter.runPipeline(pieces(cliFrame), [filter.decompressFilter('lz4')]),
    );
  }

  let gz = Buffer.alloc(0);
  await measure('gzip -6 compress (GzCompressFilter)', size, async () => {
    await filter.runPipeline(pieces(heap), [filter.compressFilter('gz', 6)], async (data) => {
      gz = await collect(data);
    });
  });
  console.log(`  ratio ${(size / gz.length).toFixed(2)}`);
  await measure('gzip decompress (GzDecompressFilter)', size, () =>
    filter.runPipeline(pieces(gz), [filter.decompressFilter('gz')]),
  );

  const random = randomData(Math.min(size, 64 * MiB));
  let lz4Random = Buffer.alloc(0);
  await measure('lz4 compress, random data', random.length, async () => {
    await filter.runPipeline(pieces(random), [filter.compressFilter('lz4')], async (data) => {
      lz4Random = await collect(data);
    });
  });
  await measure('lz4 decompress (ours), random data', random.length, () =>
    filter.runPipeline(pieces(lz4Random), [filter.decompressFilter('lz4')]),
  );

  // Sanity: what we measured decodes to the input.
  const back = createHash('sha1');
  await filter.runPipeline(pieces(lz4), [filter.decompressFilter('lz4')], async (data) => {
    for await (const chunk of data) back.update(chunk);
  });
  if (back.digest('hex') !== createHash('sha1').update(heap).digest('hex')) throw new Error('lz4 round trip mismatch');
} finally {
  rmSync(work, { recursive: true, force: true });
}
