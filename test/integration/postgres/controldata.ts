import { join } from 'node:path';

import { PG_BIN } from '../../harness/pg-cluster.js';
import { run } from '../../harness/run.js';

/** Runs pg_controldata as postgres (C locale, UTC) on a data directory and returns its "name: value" lines. */
export async function pgControlData(dataDir: string): Promise<Map<string, string>> {
  const result = await run(join(PG_BIN, 'pg_controldata'), ['-D', dataDir], {
    user: 'postgres',
    cwd: '/tmp',
    env: { ...process.env, LC_ALL: 'C', LANG: 'C', TZ: 'UTC' },
  });
  const fields = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** Formats epoch seconds as pg_controldata does in the C locale and UTC (strftime "%c"). */
export function cTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    `${days[date.getUTCDay()]} ${months[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} ${date.getUTCFullYear()}`
  );
}
