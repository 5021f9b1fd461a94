// The test command (`npm test` and friends). It does its own set-up: integration and end-to-end
// tests need real PostgreSQL, pgbackrest, sshd, chromium... Run as root it installs what is
// missing with apt; run as another user it stops at once naming the apt command. Unit tests need
// nothing installed. The last line is always `N passed, N failed`.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const mode = process.argv[2] ?? 'all';
const extra = process.argv.slice(3);
const isRoot = process.getuid?.() === 0;

/** Debian packages the real tests use, and a file that shows each is installed. */
const systemPackages = [
  ['postgresql-15', '/usr/lib/postgresql/15/bin/initdb'],
  ['pgbackrest', '/usr/bin/pgbackrest'],
  ['openssh-server', '/usr/sbin/sshd'],
  ['chromium', '/usr/bin/chromium'],
  ['xvfb', '/usr/bin/xvfb-run'],
  ['lz4', '/usr/bin/lz4'],
  ['zstd', '/usr/bin/zstd'],
  ['iproute2', '/usr/sbin/ip'],
];
const aptCommand = `apt-get update && apt-get install -y ${systemPackages.map(([name]) => name).join(' ')}`;

const projects = {
  all: ['unit', 'renderer', 'integration', 'e2e'],
  unit: ['unit', 'renderer'],
  integration: ['integration'],
  e2e: ['e2e'],
  coverage: ['unit', 'integration', 'e2e'],
}[mode];
if (projects === undefined) fail(`unknown test mode '${mode}': use all, unit, integration, e2e or coverage`);

const needsSystem = projects.some((project) => project === 'integration' || project === 'e2e');
if (needsSystem) {
  ensureSystemPackages();
  if (!isRoot)
    fail(
      'integration and end-to-end tests need root: they run PostgreSQL, pgbackrest and sshd as other users\nHINT: run them as root (sudo npm test), or run only the unit tests: npm run test:unit',
    );
}

const step = (label, program, args) => {
  console.log(`\n> ${label}`);
  const result = spawnSync(program, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail(`${label} failed`, 1);
};
const bin = (name) => join(root, 'node_modules', '.bin', name);

if (mode === 'all') {
  step('typecheck', 'npm', ['run', '--silent', 'typecheck']);
  step('lint', 'npm', ['run', '--silent', 'lint']);
}
if (needsSystem) step('build', process.execPath, [join(root, 'scripts', 'build.mjs')]);

mkdirSync(join(root, 'test-results'), { recursive: true });
const report = join(root, 'test-results', 'vitest.json');
const vitestArgs = [
  'run',
  ...projects.filter(hasTests).flatMap((project) => ['--project', project]),
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...(mode === 'coverage' ? ['--coverage'] : []),
  ...extra,
];
// Coverage: every Node process the tests start (the CLI, its workers; some as postgres) writes
// its V8 coverage here when it exits, merged with vitest's below (scripts/process-coverage.mjs).
const processCoverage = mode === 'coverage' ? mkdtempSync(join(tmpdir(), 'pgkeep-v8-coverage-')) : undefined;
if (processCoverage !== undefined) chmodSync(processCoverage, 0o1777);
console.log(`\n> vitest ${vitestArgs.join(' ')}`);
const result = spawnSync(bin('vitest'), vitestArgs, {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    FORCE_COLOR: process.env.FORCE_COLOR ?? '0',
    ...(processCoverage === undefined ? {} : { NODE_V8_COVERAGE: processCoverage }),
  },
});
if (processCoverage !== undefined) {
  const vitestJson = join(root, 'coverage', 'coverage-final.json');
  if (existsSync(vitestJson)) {
    const { mergeProcessCoverage } = await import('./process-coverage.mjs');
    console.log('\n> coverage of engine/ with the child processes (the CLI and its workers)');
    const figures = await mergeProcessCoverage({ root, rawDir: processCoverage, vitestJson, outDir: join(root, 'coverage') });
    console.log(
      `engine/ lines ${figures.all.lines} %, branches ${figures.all.branches} % (vitest's processes alone: ${figures.inProcess.lines} %, ${figures.inProcess.branches} %; ${figures.processes} child processes, ${figures.unmatched} of their items unmatched)`,
    );
  }
  rmSync(processCoverage, { recursive: true, force: true });
}

let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests ?? 0;
  failed = (json.numFailedTests ?? 0) + countFilesFailedOutsideTests(json);
}
if (result.status !== 0 && failed === 0) failed = 1; // vitest failed outside any test (setup, unhandled error)
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && result.status === 0 ? 0 : 1);

function hasTests(project) {
  const dir = join(root, 'test', project === 'renderer' ? 'unit/renderer' : project);
  return existsSync(dir) && readdirSync(dir, { recursive: true }).some((name) => String(name).endsWith('.test.ts'));
}

/** A test file that failed to load or in a hook fails without any failed test: count it once. */
function countFilesFailedOutsideTests(json) {
  return (json.testResults ?? []).filter(
    (file) => file.status === 'failed' && !file.assertionResults?.some((test) => test.status === 'failed'),
  ).length;
}

function ensureSystemPackages() {
  const missing = systemPackages.filter(([, file]) => !existsSync(file)).map(([name]) => name);
  if (missing.length === 0) return;
  if (!isRoot) {
    fail(`missing system packages: ${missing.join(', ')}\nHINT: install them as root: ${aptCommand}`);
  }
  console.log(`> installing missing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
}

function fail(message, code = 1) {
  console.error(`ERROR: ${message}`);
  console.log('\n0 passed, 1 failed');
  process.exit(code);
}
