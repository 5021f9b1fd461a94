import { execFileSync } from 'node:child_process';

export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

const cache = new Map<string, OsUser>();

/** Looks up an OS user (the tests run PostgreSQL and pgbackrest as `postgres`). */
export function osUser(name = 'postgres'): OsUser {
  const known = cache.get(name);
  if (known !== undefined) return known;
  let entry: string;
  try {
    entry = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`OS user '${name}' does not exist: install postgresql-15 (it creates the postgres user)`);
  }
  const fields = entry.split(':');
  const user = { name, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]! };
  cache.set(name, user);
  return user;
}

/** Whether this process can switch to another user (tests need root for that). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** An OS user with its primary group's name, or undefined when there is no such user (tests that fall back to another). */
export function findOsUser(name: string): (OsUser & { readonly group: string }) | undefined {
  let user: OsUser;
  try {
    user = osUser(name);
  } catch {
    return undefined;
  }
  const group = execFileSync('getent', ['group', String(user.gid)], { encoding: 'utf8' }).split(':')[0]!;
  return { ...user, group };
}
