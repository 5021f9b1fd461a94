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

export type Tool = 'pgkeep' | 'pgbackrest';

/** Runs of each tool per case (BENCH_ROUNDS, default 3). */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * Measures both tools ROUNDS times, their order alternating from round to round (which one runs
 * first changed a result by up to 2x on this machine), and returns each tool's medians.
 */
export async function alternating(
  measureTool: (tool: Tool) => Promise<Measurement>,
): Promise<{ pgkeep: Measurement; pgbackrest: Measurement }> {
  const runs: Record<Tool, Measurement[]> = { pgkeep: [], pgbackrest: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order: readonly Tool[] = round % 2 === 0 ? ['pgkeep', 'pgbackrest'] : ['pgbackrest', 'pgkeep'];
    for (const tool of order) runs[tool].push(await measureTool(tool));
  }
  return { pgkeep: median(runs.pgkeep), pgbackrest: median(runs.pgbackrest) };
}

/** The median of each figure on its own. */
export function median(runs: readonly Measurement[]): Measurement {
  const middle = (values: number[]) => {
    const sorted = values.sort((a, b) => a - b);
    const half = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
  };
  return {
    wall: middle(runs.map((m) => m.wall)),
    cpu: middle(runs.map((m) => m.cpu)),
    peakMb: middle(runs.map((m) => m.peakMb)),
  };
}
