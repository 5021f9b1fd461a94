import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { PgkeepError } from '../../error/pgkeep-error.js';
import type { CommandContext } from '../command.js';

/**
 * `pgkeep ui`: starts browser mode, the host in main/web that serves the app on 127.0.0.1. The
 * engine does not import its hosts (ARCHITECTURE.md); this command starts that host as a program,
 * packaged next to the engine, with the same arguments, and ends when it ends.
 */
export const UI_HOST = new URL('../../../main/web/main.js', import.meta.url);

export async function run({ signal }: CommandContext): Promise<number> {
  const child = spawn(process.execPath, [fileURLToPath(UI_HOST), ...process.argv.slice(2)], { stdio: 'inherit' });
  signal.addEventListener('abort', () => child.kill('SIGTERM'), { once: true });
  return new Promise((resolve, reject) => {
    child.once('error', (error) =>
      reject(
        new PgkeepError('Execute', `unable to start the UI host '${fileURLToPath(UI_HOST)}': ${error.message}`, {
          hint: "run 'npm run build' first",
        }),
      ),
    );
    child.once('exit', (code) => resolve(code ?? 1));
  });
}
