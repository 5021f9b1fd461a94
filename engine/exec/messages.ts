import type { QueueKey } from './job.js';
import type { WireError } from './wire-error.js';

/**
 * The messages between the pool and its workers. Bump the protocol number when they change: a
 * worker entry from another build (a stale dist/, a mismatched app bundle) is refused at once
 * instead of misbehaving.
 */
export const EXEC_PROTOCOL = 2;

export interface InitMessage {
  readonly type: 'init';
  readonly processId: number;
  readonly init: unknown;
}

export interface JobMessage {
  readonly type: 'job';
  /** Unique per attempt, so a late reply from a replaced worker cannot be taken for the retry's. */
  readonly id: number;
  readonly handler: string;
  readonly key: string;
  readonly size: number;
  readonly queue: QueueKey;
  readonly attempt: number;
  readonly data: unknown;
}

/** Load these handlers' code now, before their first job (see JobHandler.warm); sent by prestartWorkers. */
export interface WarmMessage {
  readonly type: 'warm';
  readonly handlers: readonly string[];
}

export interface StopMessage {
  readonly type: 'stop';
}

export type ToWorker = InitMessage | JobMessage | WarmMessage | StopMessage;

export interface ReadyMessage {
  readonly type: 'ready';
  readonly protocol: number;
}

export interface ResultMessage {
  readonly type: 'result';
  readonly id: number;
  readonly result: unknown;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly id: number;
  readonly error: WireError;
}

export interface ProgressMessage {
  readonly type: 'progress';
  readonly id: number;
  readonly bytes: number;
}

export type FromWorker = ReadyMessage | ResultMessage | ErrorMessage | ProgressMessage;

const toWorkerTypes: ReadonlySet<string> = new Set<ToWorker['type']>(['init', 'job', 'warm', 'stop']);
const fromWorkerTypes: ReadonlySet<string> = new Set<FromWorker['type']>(['ready', 'result', 'error', 'progress']);

/**
 * The channel may carry other traffic (an entry that also uses process.send for something else):
 * only objects with one of our types are ours. Both ends are the same build, so the rest of the
 * shape is trusted once the protocol number matched.
 */
export function asToWorker(message: unknown): ToWorker | undefined {
  return hasType(message, toWorkerTypes) ? (message as ToWorker) : undefined;
}

export function asFromWorker(message: unknown): FromWorker | undefined {
  return hasType(message, fromWorkerTypes) ? (message as FromWorker) : undefined;
}

function hasType(message: unknown, types: ReadonlySet<string>): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const type = (message as { type?: unknown }).type;
  return typeof type === 'string' && types.has(type);
}
