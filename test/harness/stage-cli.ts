import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/**
 * Copies the built CLI and its production dependencies to a directory every user can read, and
 * returns the path of an executable `pgkeep` there. PostgreSQL runs archive_command as `postgres`,
 * which cannot reach a checkout under a private home directory; staging makes the tests
 * independent of where the checkout lives.
 */
export function stageCli(repoRoot: string): string {
  const cli = join(repoRoot, 'dist', 'engine', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'npm run build' first (npm test does)`);

  const stage = mkdtempSync(join(tmpdir(), 'pgkeep-stage-'));
  cpSync(join(repoRoot, 'dist'), join(stage, 'dist'), { recursive: true });
  cpSync(join(repoRoot, 'package.json'), join(stage, 'package.json'));
  const packages = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: repoRoot, encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('node_modules'));
  for (const path of packages) cpSync(path, join(stage, relative(repoRoot, path)), { recursive: true, dereference: true });

  // The package's bin (the sh fast path that runs Node for everything but a pushed segment), as an
  // installed `pgkeep` would be: a link to it.
  const bin = join(stage, 'pgkeep');
  symlinkSync(join(stage, 'dist', 'engine', 'archive-async', 'pgkeep-fast.sh'), bin);
  execFileSync('chmod', ['-R', 'a+rX', stage]);
  return stage;
}
