import type { Config } from '../../config/config.js';
import { acquireLock, checkNotStopped, type LockType, type StanzaLock } from '../../repo/lock/lock.js';

/**
 * The stanza commands take the archive lock too, which the asynchronous archive-push process holds
 * while it works and for a moment after (it is busiest exactly when archiving fails because the
 * stanza does not exist yet): they wait for it this long instead of failing at once.
 */
export const ALL_LOCK_WAIT_MS = 30_000;

/**
 * Runs work under the stanza's lock after checking the stanza is not stopped, and releases the
 * lock whatever happens.
 */
export async function withStanzaLock<T>(config: Config, type: LockType, work: (lock: StanzaLock) => Promise<T>): Promise<T> {
  const lockPath = config.string('lock-path');
  const stanza = config.string('stanza');
  await checkNotStopped(lockPath, stanza);
  const lock = await acquireLock({ lockPath, stanza, type, ...(type === 'all' ? { timeoutMs: ALL_LOCK_WAIT_MS } : {}) });
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}
