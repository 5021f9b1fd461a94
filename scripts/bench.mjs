// The benchmark command (`npm run bench`): builds, then runs every benchmark under bench/, one
// at a time (they measure the machine; two at once would measure each other), output as it comes.
//
//   npm run bench                      all of them
//   npm run bench -- archive filter    those whose path contains one of the words
//   npm run bench -- --no-build        skip the build (dist/ is current)
//
// A benchmark is a plain Node script named bench/<area>/<name>-bench.mjs (files beside it that are
// not named so are its helpers), or a vitest file bench/<area>/<name>.bench.test.ts run with
// bench/vitest.config.ts (for benchmarks that need the test harness). The last line is always
// `N benchmarks: N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const filters = args.filter((arg) => !arg.startsWith('--'));
const build = !args.includes('--no-build');

const benchDir = join(root, 'bench');
const found = [];
for (const area of existsSync(benchDir) ? readdirSync(benchDir, { withFileTypes: true }) : []) {
  if (!area.isDirectory()) continue;
  for (const name of readdirSync(join(benchDir, area.name)).sort()) {
    const kind = name.endsWith('-bench.mjs') ? 'node' : name.endsWith('.bench.test.ts') ? 'vitest' : undefined;
    const path = join(benchDir, area.name, name);
    if (kind !== undefined && (filters.length === 0 || filters.some((word) => relative(root, path).includes(word))))
      found.push({ kind, path });
  }
}
found.sort((a, b) => (a.path < b.path ? -1 : 1));

if (found.length === 0) {
  console.log(`no benchmark matches ${filters.join(' ') || 'bench/*/*-bench.mjs'}\n0 benchmarks: 0 passed, 0 failed`);
  process.exit(filters.length === 0 ? 0 : 1);
}

if (build) {
  console.log('> build');
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.log(`build failed\n${found.length} benchmarks: 0 passed, ${found.length} failed`);
    process.exit(1);
  }
}

const failed = [];
for (const { kind, path } of found) {
  const name = relative(root, path);
  console.log(`\n> ${name}`);
  const started = Date.now();
  const result =
    kind === 'node'
      ? spawnSync(process.execPath, [path], { cwd: root, stdio: 'inherit' })
      : spawnSync(
          process.execPath,
          [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', join(benchDir, 'vitest.config.ts'), path],
          { cwd: root, stdio: 'inherit' },
        );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status === 0) console.log(`< ${name}: done in ${seconds} s`);
  else {
    console.log(`< ${name}: FAILED (${result.signal ?? `exit code ${result.status}`}) after ${seconds} s`);
    failed.push(name);
  }
}

console.log(
  `\n${found.length} benchmarks: ${found.length - failed.length} passed, ${failed.length} failed${failed.length === 0 ? '' : ` (${failed.join(', ')})`}`,
);
process.exit(failed.length === 0 ? 0 : 1);
