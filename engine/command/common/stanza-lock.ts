import type { Config } from '../../config/config.js';
import { acquireLock, checkNotStopped, type LockType, type StanzaLock } from '../../repo/lock/lock.js';

/**
 * Runs work under the stanza's lock after checking the stanza is not stopped, and releases the
 * lock whatever happens.
 */
export async function withStanzaLock<T>(config: Config, type: LockType, work: (lock: StanzaLock) => Promise<T>): Promise<T> {
  const lockPath = config.string('lock-path');
  const stanza = config.string('stanza');
  await checkNotStopped(lockPath, stanza);
  const lock = await acquireLock({ lockPath, stanza, type });
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}
