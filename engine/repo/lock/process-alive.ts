import { readFileSync } from 'node:fs';

/**
 * Whether a process with this pid exists on this host. A process of another user counts (kill()
 * answers EPERM), and a zombie does not: it was killed and holds nothing, only its parent has not
 * collected its exit status yet.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    // No /proc (or the process just ended): kill() said it exists, so trust that.
    return false;
  }
  // `pid (comm) state ...`: comm may contain spaces and parentheses, the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}
