// Browser mode (`pgkeep ui`, `npm run ui`): the desktop app's service and renderer on 127.0.0.1,
// behind a one-time token printed in the URL. Arguments are pgkeep's: --config and friends choose
// the configuration; --ui-address, --ui-port and --ui-allow-remote choose where to listen.
import { join } from 'node:path';

import { parseCommandLine } from '../../engine/config/command-line.js';
import { resolveConfig } from '../../engine/config/resolve.js';
import { PgkeepError, toPgkeepError } from '../../engine/error/pgkeep-error.js';
import { log } from '../../engine/log/logger.js';
import { PgkeepService } from '../../engine/service/service.js';
import { startUiServer } from './ui-server.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

async function main(): Promise<void> {
  const argv = process.argv.slice(2).filter((arg) => arg !== 'ui');
  const config = resolveConfig({ command: 'ui', commandLine: parseCommandLine([...argv, 'ui']), env: process.env });
  log.configure({ console: 'off', stderr: 'warn', file: 'off', timestamp: true, processId: 0 });

  const host = config.string('ui-address');
  if (!LOOPBACK.test(host)) {
    if (!config.boolean('ui-allow-remote')) {
      throw new PgkeepError('OptionInvalidValue', `ui-address '${host}' is not a loopback address`, {
        hint: 'the UI controls backups: pass --ui-allow-remote to listen beyond this machine (behind a firewall or an SSH tunnel)',
      });
    }
    process.stderr.write(`WARN: the pgkeep UI listens on ${host}: anyone who can reach it and has the link can run backups\n`);
  }

  // The configuration options (--config ...) are passed on to every job the service runs.
  const configArgs = argv.filter((arg) => /^--(no-)?config(-path|-include-path)?(=|$)/.test(arg));
  const service = new PgkeepService({
    configArgs,
    ...(process.env.PGKEEP_STATE_DIR === undefined ? {} : { stateDir: process.env.PGKEEP_STATE_DIR }),
  });
  const server = await startUiServer({
    service,
    rendererDir: join(import.meta.dirname, '..', '..', 'renderer'),
    host,
    port: config.number('ui-port'),
  });
  process.stdout.write(`pgkeep UI: ${server.url}\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void server.close().then(() => process.exit(0));
    });
  }
}

main().catch((caught: unknown) => {
  const error = toPgkeepError(caught);
  process.stderr.write(`ERROR: [${String(error.code).padStart(3, '0')}]: ${error.text.replaceAll('\n', '\n       ')}\n`);
  process.exit(error.code);
});
