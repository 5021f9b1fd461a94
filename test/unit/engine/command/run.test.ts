import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { runCommand } from '../../../../engine/command/run.js';
import { memoryIo } from '../config/memory-io.js';

/** The CLI's runner in-process: output, log lines and exit codes. */
async function pgkeep(argv: string[], files: Record<string, string> = {}, uid = 1000) {
  let out = '';
  let stderr = '';
  let stdout = '';
  const code = await runCommand(argv, {
    env: {},
    io: memoryIo(files),
    out: (text) => (out += text),
    sink: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    uid,
  });
  return { code, out, stderr, stdout };
}

describe('runCommand', () => {
  it('runs help and version without reading configuration', async () => {
    expect(await pgkeep(['version'])).toMatchObject({ code: 0, out: 'pgkeep 0.1.0\n' });
    expect((await pgkeep([])).out).toContain('General help');
    expect((await pgkeep(['--help'])).out).toContain('General help');
    expect((await pgkeep(['backup', '--help'])).out).toContain("'backup' command help");
    expect((await pgkeep(['help', 'backup', 'type'])).out).toContain("'type' option help");
  });

  it('exits with the error code and prints ERROR and HINT lines to stderr', async () => {
    expect(await pgkeep(['bakup'])).toMatchObject({
      code: 48,
      stderr: expect.stringContaining("ERROR: [048]: unknown command 'bakup'"),
    });
    // pgBackRest's own commands are known, and said to be missing as such
    expect(await pgkeep(['repo-put'])).toMatchObject({
      code: 48,
      stderr: expect.stringContaining(
        "ERROR: [048]: command 'repo-put' is a pgBackRest command pgkeep does not implement yet\n       HINT: run it with pgBackRest",
      ),
    });
    const bad = await pgkeep(['--stanza=main', 'info'], { '/etc/pgkeep/pgkeep.conf': '[global]\nbuffer-size=huge\n' });
    expect(bad.code).toBe(32);
    expect(bad.stderr).toContain("ERROR: [032]: /etc/pgkeep/pgkeep.conf:2: 'huge' is not a size for option 'buffer-size'");
    expect(bad.stderr).toContain('HINT: write a number of bytes');
  });

  it('refuses commands that write as the database user when run as root, unless --allow-root', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'pgkeep-run-test-'));
    const files = {
      '/etc/pgkeep/pgkeep.conf': `[global]\nrepo1-path=${scratch}/repo\nlock-path=${scratch}/lock\n[main]\npg1-path=${scratch}/data\n`,
    };
    const root = await pgkeep(['--stanza=main', 'stanza-create'], files, 0);
    expect(root).toMatchObject({
      code: 133,
      stderr: expect.stringContaining('ERROR: [133]: stanza-create refuses to run as root'),
    });
    const allowed = await pgkeep(['--stanza=main', '--allow-root', 'stanza-create'], files, 0);
    expect(allowed.code).not.toBe(133); // goes on, and fails for the missing data directory instead
    rmSync(scratch, { recursive: true, force: true });
  });

  // Secrets in that line are redacted: see resolve.test.ts (a secret from the environment) and logger.test.ts.
  it('logs the command begin line with the options the user set, on the console level', async () => {
    const files = { '/etc/pgkeep/pgkeep.conf': '[global]\nrepo1-path=/nonexistent/repo\nrepo1-cipher-type=none\n' };
    const result = await pgkeep(['--log-level-console=info', '--log-timestamp=n', 'info'], files);
    expect(result.stdout).toContain(
      'P00   INFO: info command begin 0.1.0: --log-level-console=info --no-log-timestamp --repo1-cipher-type=none --repo1-path=/nonexistent/repo',
    );
    expect(result.stdout).toContain('INFO: info command end: completed successfully');
    expect(result.out).toBe('No stanzas exist in the repository.\n');
  });
});
