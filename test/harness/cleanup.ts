import { rmSync } from 'node:fs';

/**
 * What a test process must undo when it ends, even after a failure: first stop servers, then
 * remove their directories (in that order: a server must not outlive its data directory).
 */
const stoppers = new Set<() => void>();
const directories = new Set<string>();

export function onExitStop(stop: () => void): () => void {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

export function onExitRemove(path: string): () => void {
  directories.add(path);
  return () => directories.delete(path);
}

process.on('exit', () => {
  for (const stop of stoppers) {
    try {
      stop();
    } catch {
      // keep cleaning up the rest
    }
  }
  for (const path of directories) rmSync(path, { recursive: true, force: true });
});
