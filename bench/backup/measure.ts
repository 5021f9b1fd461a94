import { run } from '../../test/harness/run.js';

export interface Measurement {
  readonly wall: number;
  readonly cpu: number;
  /** Peak resident memory of the largest single process, MB. */
  readonly peakMb: number;
}

/**
 * Runs a command as postgres under /usr/bin/time (GNU time from Debian's `time` package): wall
 * clock, CPU (user + system, children included) and the peak memory of the largest process.
 * Dirty pages are written out first, so no command pays for the writeback of what ran before it.
 */
export async function measure(program: string, args: readonly string[], cwd: string): Promise<Measurement> {
  await run('sync', []);
  const result = await run('/usr/bin/time', ['-f', 'MEASURE %e %U %S %M', program, ...args], {
    user: 'postgres',
    cwd,
    env: { PATH: process.env.PATH },
  });
  const line = result.stderr.split('\n').find((text) => text.startsWith('MEASURE '));
  if (line === undefined) throw new Error(`no measurement in:\n${result.stderr}`);
  const [wall, user, system, maxKb] = line.slice(8).split(' ').map(Number) as [number, number, number, number];
  return { wall, cpu: user + system, peakMb: maxKb / 1024 };
}

export function row(name: string, ours: Measurement, theirs: Measurement | undefined): string {
  const ratio = (a: number, b: number | undefined) => (b === undefined || b === 0 ? '   -  ' : (a / b).toFixed(2).padStart(6));
  const cell = (m: Measurement | undefined) =>
    m === undefined
      ? '            -            '
      : `${m.wall.toFixed(2).padStart(7)}s ${m.cpu.toFixed(2).padStart(7)}s ${m.peakMb.toFixed(0).padStart(5)}MB`;
  return `${name.padEnd(34)} ${cell(ours)}   ${cell(theirs)}   wall ${ratio(ours.wall, theirs?.wall)}  cpu ${ratio(ours.cpu, theirs?.cpu)}`;
}

export const HEADER = `${'case'.padEnd(34)} ${'pgkeep wall / cpu / peak'.padEnd(25)}   ${'pgbackrest wall / cpu / peak'.padEnd(25)}   ratios pgkeep/pgbackrest`;
