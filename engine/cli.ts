#!/usr/bin/env node
// The pgkeep command line. PostgreSQL runs it as archive_command and restore_command, so it must
// start fast and run on plain Node as any user: everything a command needs is loaded on demand.
// (For archive_command, archive-async/pgkeep-fast.sh answers most calls without starting Node.)
import { recordInvocation } from './archive-async/config-trace.js';
import { runCommand } from './command/run.js';
import { PgkeepError } from './error/pgkeep-error.js';

// A signal ends the command with pgBackRest's error (pgkeep stop --force sends SIGTERM).
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => controller.abort(new PgkeepError('Term', `terminated on signal [${signal}]`)));
}
const argv = process.argv.slice(2);
// Remembered for archive-push's fast path descriptor and background process (archive-async/config-trace.ts).
const io = recordInvocation(argv, process.env);
process.exitCode = await runCommand(argv, { signal: controller.signal, io });
