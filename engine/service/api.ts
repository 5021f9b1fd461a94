import { z } from 'zod';

/**
 * The one contract between the engine and every UI (the Electron renderer over IPC, the browser
 * over a WebSocket). Every request, result and event has a schema here; hosts validate requests
 * before anything runs, and results cross the boundary as data: `{ ok: true, value }` or
 * `{ ok: false, code, name, message, hint }` with the engine's stable error codes.
 *
 * The renderer imports this file's types only (lint enforces `import type`), so this module must
 * stay free of Node APIs.
 */

export const errorInfoSchema = z.object({
  code: z.number().int(),
  name: z.string(),
  message: z.string(),
  hint: z.string().optional(),
});
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

export const backupTypeSchema = z.enum(['full', 'diff', 'incr']);
export type BackupType = z.infer<typeof backupTypeSchema>;

export const backupSummarySchema = z.object({
  label: z.string(),
  type: backupTypeSchema,
  prior: z.string().nullable(),
  /** Labels of earlier backups this one needs (its full, and the chain to it). */
  references: z.array(z.string()),
  /** Epoch seconds. */
  startTime: z.number(),
  stopTime: z.number(),
  /** Database bytes, and bytes new in this backup. */
  size: z.number(),
  deltaSize: z.number(),
  /** Repository bytes (compressed), total and new in this backup. */
  repoSize: z.number(),
  repoDeltaSize: z.number(),
  walStart: z.string().nullable(),
  walStop: z.string().nullable(),
  lsnStart: z.string().nullable(),
  lsnStop: z.string().nullable(),
  /** Pages that failed their checksum were found (the backup is still usable). */
  pageErrors: z.boolean(),
  online: z.boolean(),
});
export type BackupSummary = z.infer<typeof backupSummarySchema>;

export const archiverStatsSchema = z.object({
  archivedCount: z.number(),
  lastArchivedWal: z.string().nullable(),
  lastArchivedTime: z.number().nullable(),
  failedCount: z.number(),
  lastFailedWal: z.string().nullable(),
  lastFailedTime: z.number().nullable(),
});
export type ArchiverStats = z.infer<typeof archiverStatsSchema>;

export const archiveStatusSchema = z.object({
  archiveId: z.string().nullable(),
  /** Oldest and newest segment in the repository. */
  minWal: z.string().nullable(),
  maxWal: z.string().nullable(),
  /** When the newest segment reached the repository (epoch seconds). */
  lastArchivedTime: z.number().nullable(),
  /** PostgreSQL's pg_stat_archiver, when the database could be reached. */
  archiver: archiverStatsSchema.nullable(),
});
export type ArchiveStatus = z.infer<typeof archiveStatusSchema>;

export const healthSchema = z.enum(['ok', 'warning', 'error']);
export type Health = z.infer<typeof healthSchema>;

export const problemSchema = z.object({
  kind: z.enum(['no-backup', 'backup-overdue', 'archive-failing', 'archive-stale', 'repository', 'database', 'config']),
  severity: healthSchema,
  /** What happened, for a DBA. */
  message: z.string(),
  /** What to do about it. */
  hint: z.string().optional(),
});
export type Problem = z.infer<typeof problemSchema>;

export const stanzaSummarySchema = z.object({
  name: z.string(),
  repoPath: z.string(),
  pgPath: z.string().nullable(),
  /** pgBackRest's stanza status: 0 ok, 1 missing stanza path, 2 no valid backups, 3 missing stanza data, 99 other. */
  status: z.object({ code: z.number().int(), message: z.string() }),
  database: z.object({ version: z.string(), systemId: z.string() }).nullable(),
  backups: z.array(backupSummarySchema),
  archive: archiveStatusSchema,
  repoSize: z.number(),
  /** Point-in-time recovery is possible between these epoch seconds. */
  recoverable: z.object({ from: z.number(), to: z.number() }).nullable(),
  health: healthSchema,
  problems: z.array(problemSchema),
  /** A job of this stanza that is running now, if any. */
  runningJobId: z.string().nullable(),
});
export type StanzaSummary = z.infer<typeof stanzaSummarySchema>;

const stanzaName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+$/, 'a stanza name has letters, digits, _ . and - only');

export const startJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('backup'), stanza: stanzaName, type: backupTypeSchema }),
  z.object({ kind: z.literal('check'), stanza: stanzaName }),
  z.object({ kind: z.literal('expire'), stanza: stanzaName, dryRun: z.boolean() }),
  z.object({ kind: z.literal('verify'), stanza: stanzaName }),
]);
export type StartJob = z.infer<typeof startJobSchema>;

export const progressSchema = z.object({
  bytesDone: z.number(),
  bytesTotal: z.number(),
  filesDone: z.number(),
  filesTotal: z.number(),
  /** Bytes per second over the last seconds. */
  rate: z.number(),
  /** Seconds left at the current rate, when it can be estimated. */
  eta: z.number().nullable(),
});
export type Progress = z.infer<typeof progressSchema>;

export const logLineSchema = z.object({
  time: z.number(),
  level: z.enum(['error', 'warn', 'info', 'detail', 'debug', 'trace']),
  message: z.string(),
});
export type LogLine = z.infer<typeof logLineSchema>;

export const jobStateSchema = z.enum(['running', 'succeeded', 'failed', 'cancelled']);
export type JobState = z.infer<typeof jobStateSchema>;

export const jobSchema = z.object({
  id: z.string(),
  request: startJobSchema,
  state: jobStateSchema,
  /** Epoch milliseconds. */
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  progress: progressSchema.nullable(),
  /** One line for a DBA: "incremental backup 20261121-101010F_20261121-121212I: 12.5 MB in 3 s". */
  summary: z.string().nullable(),
  /** The backup a backup job made. */
  backupLabel: z.string().nullable(),
  error: errorInfoSchema.nullable(),
  /** The last log lines (getJob returns all that were kept). */
  log: z.array(logLineSchema),
});
export type Job = z.infer<typeof jobSchema>;

/** Every request: method name, its parameters, its value on success. */
export const methods = {
  listStanzas: { params: z.object({}), result: z.array(stanzaSummarySchema) },
  getStanza: { params: z.object({ name: stanzaName }), result: stanzaSummarySchema },
  startJob: { params: startJobSchema, result: jobSchema },
  cancelJob: { params: z.object({ id: z.string().min(1).max(100) }), result: jobSchema },
  getJob: { params: z.object({ id: z.string().min(1).max(100) }), result: jobSchema },
  listJobs: { params: z.object({}), result: z.array(jobSchema) },
} as const;

export type MethodName = keyof typeof methods;
export type Params<M extends MethodName> = z.infer<(typeof methods)[M]['params']>;
export type Value<M extends MethodName> = z.infer<(typeof methods)[M]['result']>;

export type Result<T> = { ok: true; value: T } | ({ ok: false } & ErrorInfo);

export const eventSchema = z.discriminatedUnion('type', [
  /** A job started, progressed, logged or ended (a full snapshot, throttled). */
  z.object({ type: z.literal('job'), job: jobSchema }),
  /** Stanza data changed (a backup finished, expire removed something): reload what is shown. */
  z.object({ type: z.literal('stanzas-changed') }),
]);
export type ServiceEvent = z.infer<typeof eventSchema>;

/** What the renderer holds: one interface for every backend call, whatever the transport. */
export interface Api {
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<Value<M>>>;
  /** Returns the function that unsubscribes. */
  subscribe(listener: (event: ServiceEvent) => void): () => void;
}

/** Wire format shared by the WebSocket and IPC transports. */
export const requestSchema = z.object({
  id: z.number().int().nonnegative(),
  method: z.string(),
  params: z.unknown(),
});
export type WireRequest = z.infer<typeof requestSchema>;
export type WireMessage = { kind: 'response'; id: number; result: Result<unknown> } | { kind: 'event'; event: ServiceEvent };
