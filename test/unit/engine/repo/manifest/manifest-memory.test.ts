import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { describe, expect, it } from 'vitest';

import { InfoWriter } from '../../../../../engine/repo/info/info-codec.js';
import { parseManifestStream, renderManifestChunks } from '../../../../../engine/repo/manifest/manifest.js';
import { exampleText } from '../examples.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const FILES = 200_000;
const FULL = '20261121-045159F';

function hex(seed: number): string {
  return createHash('sha1').update(String(seed)).digest('hex');
}

/**
 * A manifest of a large cluster, written piece by piece by our writer exactly as pgBackRest would
 * write it (sorted names, defaults factored out), so the source text is never one string.
 */
function* syntheticManifest(): Generator<Buffer> {
  const writer = new InfoWriter();
  const example = exampleText('incr-lz4.backup.manifest').split('\n');
  const sectionLines = (name: string) => {
    const start = example.indexOf(`[${name}]`) + 1;
    return example.slice(start, example.indexOf('', start));
  };
  const copy = (name: string) => {
    for (const line of sectionLines(name)) {
      const equal = ['backup:target', 'db', 'target:link', 'target:path'].includes(name) ? line.indexOf('={') : line.indexOf('=');
      writer.value(name, line.slice(0, equal), line.slice(equal + 1));
    }
  };
  for (const name of ['backup', 'backup:db', 'backup:option', 'backup:target', 'db']) copy(name);
  const names: string[] = [];
  for (let index = 0; index < FILES; index++) {
    names.push(
      index % 10 === 0
        ? `pg_tblspc/16384/PG_15_202209061/5/${100000 + index}`
        : `pg_data/base/5/${100000 + index}${index % 3 === 0 ? '_fsm' : ''}`,
    );
  }
  names.sort();
  for (const [index, name] of names.entries()) {
    const size = index % 50 === 0 ? 0 : 8192 * (1 + (index % 131));
    const reference = index % 2 === 0 ? `"reference":"${FULL}",` : '';
    const checksum = size === 0 ? '' : `"checksum":"${hex(index)}",`;
    writer.value(
      'target:file',
      name,
      `{${checksum}"checksum-page":true,"rck":"${hex(-index)}",${reference}"repo-size":${Math.floor(size / 3) + 15},"size":${size},"timestamp":${1795236700 + (index % 97)}}`,
    );
    if (writer.pendingLength > 1 << 20) yield Buffer.from(writer.take());
  }
  for (const name of ['target:file:default', 'target:link', 'target:link:default', 'target:path', 'target:path:default'])
    copy(name);
  yield Buffer.from(writer.finish());
}

describe('a manifest of 200,000 files', () => {
  it('parses and renders back identically with a heap of a small multiple of its size', async () => {
    // The text is held in Buffers, outside the JavaScript heap, like chunks read from a file
    const text = [...syntheticManifest()];
    const bytes = text.reduce((sum, chunk) => sum + chunk.length, 0);
    const sourceHash = createHash('sha1');
    for (const chunk of text) sourceHash.update(chunk);
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    async function* source(): AsyncGenerator<Buffer> {
      for (const chunk of text) {
        peak = Math.max(peak, process.memoryUsage().heapUsed);
        yield chunk;
      }
    }
    const started = performance.now();
    const manifest = await parseManifestStream(source(), 'synthetic.manifest');
    const parseMs = performance.now() - started;
    gc();
    const retained = process.memoryUsage().heapUsed - baseline;

    const renderHash = createHash('sha1');
    let renderedBytes = 0;
    const renderStarted = performance.now();
    for (const chunk of renderManifestChunks(manifest)) {
      renderedBytes += Buffer.byteLength(chunk);
      renderHash.update(chunk);
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    const renderMs = performance.now() - renderStarted;

    const mb = (value: number) => (value / 1024 / 1024).toFixed(1);
    console.log(
      `manifest memory: ${FILES} files, ${mb(bytes)} MB of text; heap retained by the parsed manifest ${mb(retained)} MB ` +
        `(${(retained / bytes).toFixed(2)}x the text, ${Math.round(retained / FILES)} bytes/file); heap peak above baseline ${mb(peak - baseline)} MB; ` +
        `parse ${Math.round(parseMs)} ms, render ${Math.round(renderMs)} ms`,
    );

    expect(manifest.files.size).toBe(FILES);
    expect(renderedBytes).toBe(bytes);
    expect(renderHash.digest('hex')).toBe(sourceHash.digest('hex'));
    // The brief's bound is 10x; the model stays far below it
    expect(retained).toBeLessThan(3 * bytes);
  }, 120_000);
});
