#!/usr/bin/env node
// The pgkeep command line. PostgreSQL runs it as archive_command and restore_command, so it must
// start fast and run on plain Node as any user: everything a command needs is loaded on demand.
import { runCommand } from './command/run.js';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => controller.abort(new Error(`received ${signal}`)));
}
process.exitCode = await runCommand(process.argv.slice(2), { signal: controller.signal });
