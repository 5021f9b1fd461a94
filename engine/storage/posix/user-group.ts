import { readFileSync } from 'node:fs';

/**
 * User and group names of this host. Node has no getpwuid()/getgrgid(), so /etc/passwd and
 * /etc/group are read once and kept: listings map the uid and gid of every file, which must not
 * cost a read per file. Users known only through NSS services (LDAP and the like) have no name
 * here (null), which manifests record the same way pgBackRest records an unknown owner.
 */

export interface IdTable {
  readonly nameById: ReadonlyMap<number, string>;
  readonly idByName: ReadonlyMap<string, number>;
}

interface Tables {
  readonly users: IdTable;
  readonly groups: IdTable;
}

const PASSWD_FILE = '/etc/passwd';
const GROUP_FILE = '/etc/group';

let tables: Tables | undefined;

/**
 * Parses passwd or group text (`name:x:id:...`). The first entry of an id names it, as getpwuid()
 * answers with the first match; comments, NIS `+`/`-` lines and malformed lines are skipped.
 */
export function parseIdFile(text: string): IdTable {
  const nameById = new Map<number, string>();
  const idByName = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const fields = line.split(':');
    const name = fields[0]!;
    const idText = fields[2];
    if (name === '' || idText === undefined || !/^\d+$/.test(idText)) continue;
    const id = Number(idText);
    if (!nameById.has(id)) nameById.set(id, name);
    if (!idByName.has(name)) idByName.set(name, id);
  }
  return { nameById, idByName };
}

function readIdFile(path: string): IdTable {
  try {
    return parseIdFile(readFileSync(path, 'utf8'));
  } catch {
    // A host without the file (a minimal container) simply has no names.
    return parseIdFile('');
  }
}

function load(): Tables {
  tables ??= { users: readIdFile(PASSWD_FILE), groups: readIdFile(GROUP_FILE) };
  return tables;
}

/** Forgets the cached tables, so the next lookup reads the files again. */
export function resetUserGroupCache(): void {
  tables = undefined;
}

/** Name of a uid, or null when this host has none. */
export function userName(uid: number): string | null {
  return load().users.nameById.get(uid) ?? null;
}

/** Name of a gid, or null when this host has none. */
export function groupName(gid: number): string | null {
  return load().groups.nameById.get(gid) ?? null;
}

/** The uid of a user name, or undefined. A miss reads the file again: the user may be new. */
export function userId(name: string): number | undefined {
  return lookupId(name, (loaded) => loaded.users);
}

/** The gid of a group name, or undefined. A miss reads the file again: the group may be new. */
export function groupId(name: string): number | undefined {
  return lookupId(name, (loaded) => loaded.groups);
}

function lookupId(name: string, table: (loaded: Tables) => IdTable): number | undefined {
  const known = table(load()).idByName.get(name);
  if (known !== undefined) return known;
  resetUserGroupCache();
  return table(load()).idByName.get(name);
}

/** `user:group` of this process, for hints about permissions. */
export function processOwner(): string {
  const uid = process.geteuid?.() ?? -1;
  const gid = process.getegid?.() ?? -1;
  return `${userName(uid) ?? uid}:${groupName(gid) ?? gid}`;
}
