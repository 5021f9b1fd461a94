// Builds everything that ships: the engine, the CLI and the main-process hosts with tsc, the
// renderer with Vite. The CLI file is made executable so package.json's "bin" works as is.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const step = (program, args) => execFileSync(program, args, { cwd: root, stdio: 'inherit' });

if (process.argv.includes('--clean')) rmSync(join(root, 'dist'), { recursive: true, force: true });
step(bin('tsc'), ['-b', 'tsconfig.build.json']);
chmodSync(join(root, 'dist', 'engine', 'cli.js'), 0o755);
// The `pgkeep` bin: a POSIX sh entry that answers archive_command's common case without starting
// Node and runs dist/engine/cli.js for everything else (engine/archive-async/fast-path.ts).
const fastPath = join(root, 'dist', 'engine', 'archive-async', 'pgkeep-fast.sh');
copyFileSync(join(root, 'engine', 'archive-async', 'pgkeep-fast.sh'), fastPath);
chmodSync(fastPath, 0o755);
if (existsSync(join(root, 'renderer', 'vite.config.ts')))
  step(bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
