import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStanza } from '../../harness/stanza.js';

/** `backup file <path> (<size>, <percent>%) checksum <sha1>` and its kin, pgBackRest's detail lines. */
const FILE_LINE =
  /^.* DETAIL: (backup file|match file from prior backup) (\/\S+) \((\d+(?:\.\d)?[KMG]?B), (\d+\.\d\d)%\)(?: checksum ([0-9a-f]{40}))?$/;

function fileLines(output: string): { what: string; path: string; size: string; percent: number; checksum?: string }[] {
  return output
    .split('\n')
    .map((line) => FILE_LINE.exec(line))
    .filter((match) => match !== null)
    .map((match) => ({
      what: match[1]!,
      path: match[2]!,
      size: match[3]!,
      percent: Number(match[4]),
      ...(match[5] === undefined ? {} : { checksum: match[5] }),
    }));
}

/**
 * The shape of every line a backup logs at level detail but the per-file ones: labels, WAL
 * segments, LSNs, sizes and paths replaced by placeholders, so two tools' logs compare.
 */
function shapes(output: string, dataDir: string): string[] {
  return output
    .split('\n')
    .filter((line) => / P\d\d +(DETAIL|INFO|WARN): /.test(line) && !FILE_LINE.test(line) && !/command (begin|end)/.test(line))
    .map((line) =>
      line
        .replace(/^.* P\d\d +/, '')
        .replaceAll(dataDir, 'PGDATA')
        .replace(/\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?/g, 'LABEL')
        .replace(/[0-9A-F]{24}/g, 'SEGMENT')
        .replace(/[0-9A-F]+\/[0-9A-F]+/g, 'LSN')
        .replace(/\d+(\.\d)?[KMG]?B\b/g, 'SIZE')
        // whether the start switched to a new segment depends on the cluster's state at that moment
        .replace('check archive for prior segment', 'check archive for segment'),
    );
}

/**
 * At log level detail a backup names every file as pgBackRest 2.45 does: the same files, with the
 * same paths and sizes, as pgbackrest's own backup of the same cluster logs.
 */
describe('the detail log of a backup', () => {
  let stanza: TestStanza;
  beforeAll(async () => {
    stanza = await TestStanza.withPgbench(1, { global: { 'process-max': 2 } });
    await stanza.cluster.query('CHECKPOINT');
  });
  afterAll(async () => stanza?.destroy());

  it('lists the files pgbackrest lists, with their sizes, counting up to 100%', async () => {
    const detail = ['--log-level-console=detail', '--type=full', 'backup'];
    const theirs = fileLines((await stanza.pgbackrest(detail)).stdout);
    const ours = fileLines((await stanza.pgkeep(detail)).stdout);
    expect(ours.length).toBeGreaterThan(900);
    // The same files and sizes; the order (and so the percentages) is each tool's. Files PostgreSQL
    // rewrites between the two backups (pg_control, statistics) may differ in size only.
    const listing = (lines: typeof ours) => new Map(lines.map((line) => [line.path, line.size]));
    expect([...listing(ours).keys()].sort()).toEqual([...listing(theirs).keys()].sort());
    const sized = [...listing(ours)].filter(([path]) => /\/base\/\d+\/\d+$/.test(path));
    expect(sized.length).toBeGreaterThan(100);
    for (const [path, size] of sized) expect(size, path).toBe(listing(theirs).get(path));
    for (const line of ours) {
      expect(line.what).toBe('backup file');
      expect(line.checksum === undefined).toBe(line.size === '0B');
    }
    const percents = ours.map((line) => line.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
  });

  it('says what pgbackrest says, line for line, for a full and an incremental', async () => {
    for (const type of ['full', 'incr']) {
      const args = ['--log-level-console=detail', `--type=${type}`, 'backup'];
      await stanza.cluster.query('UPDATE pgbench_tellers SET tbalance = tbalance + 1');
      const theirs = shapes((await stanza.pgbackrest(args)).stdout, stanza.cluster.dataDir);
      await stanza.cluster.query('UPDATE pgbench_tellers SET tbalance = tbalance + 1');
      const ours = shapes((await stanza.pgkeep(args)).stdout, stanza.cluster.dataDir);
      expect(ours).toContain(`INFO: new backup label = LABEL`);
      expect(ours).toEqual(theirs);
    }
  });

  it('an incremental names what it copies; with --delta, the files it found unchanged too', async () => {
    const branches = `${stanza.cluster.dataDir}/${String(await stanza.cluster.value("SELECT pg_relation_filepath('pgbench_branches')"))}`;
    const change = async () => {
      await stanza.cluster.query('UPDATE pgbench_branches SET bbalance = bbalance + 1');
      await stanza.cluster.query('CHECKPOINT');
    };
    await change();
    const incr = fileLines((await stanza.pgkeep(['--log-level-console=detail', '--type=incr', 'backup'])).stdout);
    // (a file dated too close to the prior backup's copy is compared by checksum: 'match file' is possible)
    expect(incr.filter((line) => line.what === 'backup file').map((line) => line.path)).toContain(branches);
    expect(incr.length).toBeLessThan(100);
    expect(incr.at(-1)!.percent).toBe(100);

    await change();
    const delta = fileLines((await stanza.pgkeep(['--log-level-console=detail', '--delta', '--type=incr', 'backup'])).stdout);
    const matched = delta.filter((line) => line.what === 'match file from prior backup');
    expect(matched.length).toBeGreaterThan(500);
    for (const line of matched) expect(line.checksum === undefined).toBe(line.size === '0B');
    expect(delta.filter((line) => line.what === 'backup file').map((line) => line.path)).toContain(branches);
    expect(delta.at(-1)!.percent).toBe(100);
  });
});
