import { dirname } from 'node:path';

import type { Manifest, ManifestFile, Owner } from '../../repo/manifest/manifest.js';
import { fileChecksum } from '../../repo/manifest/manifest.js';
import { manifestFileRepoPath } from '../../repo/manifest/manifest-paths.js';
import { PosixStorage } from '../../storage/posix/posix-storage.js';
import type { StorageInfo } from '../../storage/storage.js';
import type { RestoreLayout } from './layout.js';
import type { RestorePlanFile, RestorePlanLink, RestorePlanPath, RestorePlanRemoval, RestorePlanRepoFile } from './plan-json.js';
import { ignoredInDataRoot, type TargetState } from './target-state.js';
import type { MappedLink } from './target-map.js';

export const PG_CONTROL_NAME = 'pg_data/global/pg_control';

/** A file whose action waits for the checksum of the existing copy (delta). */
export interface HashCandidate {
  readonly index: number;
  readonly path: string;
  /** Bytes of the existing file to hash: the backup's size (a longer file is cut to it when kept). */
  readonly size: number;
  readonly existingSize: number;
}

export interface FilePlanInput {
  readonly manifest: Manifest;
  /** The manifest's files minus those the restore skips (tablespace_map, a preserved postgresql.auto.conf). */
  readonly files: readonly ManifestFile[];
  readonly layout: RestoreLayout;
  readonly links: ReadonlyMap<string, MappedLink>;
  readonly states: ReadonlyMap<string, TargetState>;
  /** Compare existing files (--delta), by size and time (--delta --force); --force alone replaces them all. */
  readonly delta: boolean;
  readonly force: boolean;
  readonly preserve: boolean;
  /** Owner names to set (root), null to leave them (not root). */
  readonly owner: (owner: Owner, kind: 'user' | 'group') => string | null;
  /** Absolute path of the stanza's backup directory in the repository. */
  readonly backupPath: string;
  /** Files of the databases a selective restore excludes (see selective.ts). */
  readonly zeroed?: (name: string) => boolean;
}

export interface FilePlan {
  readonly files: RestorePlanFile[];
  readonly paths: RestorePlanPath[];
  readonly links: RestorePlanLink[];
  readonly removals: RestorePlanRemoval[];
  readonly hash: HashCandidate[];
}

interface Existing {
  readonly type: StorageInfo['type'];
  readonly size: number;
  readonly mtime: number;
  readonly linkDestination: string | undefined;
}

/**
 * The per-entry plan: every directory, link and file of the backup with its action, and, for a
 * delta restore, what the targets hold that the backup does not (pgBackRest's restoreCleanBuild,
 * computed instead of done). Targets are listed without following links, so nothing outside them
 * is looked at: a link where the backup has a file or directory is removed, never followed. Files
 * whose action needs a checksum are returned in `hash` with action 'replace' for now.
 */
export async function planFiles(input: FilePlanInput): Promise<FilePlan> {
  const { manifest, layout } = input;
  const cleaning = input.delta || input.force;
  const fileNames = new Set(input.files.map((file) => file.name));
  /** What the targets hold, by manifest name: files and directories, and links apart (a file link's name is both). */
  const existing = new Map<string, Existing>();
  const existingLinks = new Map<string, Existing>();
  const removals: RestorePlanRemoval[] = [];
  const versionDirs = new Map<string, string>();
  for (const target of layout.targets) {
    if (target.kind === 'tablespace')
      versionDirs.set(`${target.name}/${target.restorePath.slice(target.absolutePath.length + 1)}`, target.name);
  }

  if (cleaning) {
    for (const target of layout.targets) {
      const state = input.states.get(target.name)!;
      if (state.wrongType !== undefined) {
        removals.push({ path: target.restorePath, type: state.wrongType, reason: 'not a directory where the backup has one' });
        continue;
      }
      if (!state.exists) continue;
      if (target.kind === 'file-link') {
        const info = await new PosixStorage({ basePath: target.absolutePath }).info(target.file!, { ignoreMissing: true });
        if (info?.type === 'file') existing.set(target.name, toExisting(info));
        else if (info !== undefined)
          removals.push({
            path: `${target.absolutePath}/${target.file!}`,
            type: info.type,
            reason: 'not a file where the backup has one',
          });
        continue;
      }
      const rootName =
        target.kind === 'tablespace' ? [...versionDirs].find(([, owner]) => owner === target.name)![0] : target.name;
      const ignore = target.kind === 'data' ? ignoredInDataRoot(input.preserve) : new Set<string>();
      const removedDirs = new Set<string>();
      // Sorted, so a directory comes before what it holds; links are listed, never followed.
      for (const info of await new PosixStorage({ basePath: target.restorePath }).list('', { recurse: true })) {
        if (underRemoved(info.name, removedDirs)) continue;
        if (info.type === 'file' && !info.name.includes('/') && ignore.has(info.name)) continue;
        const name = `${rootName}/${info.name}`;
        const removal = cleanDecision(name, info, fileNames, manifest, input.links);
        if (removal !== undefined) {
          removals.push({ path: `${target.restorePath}/${info.name}`, type: info.type, reason: removal });
          if (info.type === 'path') removedDirs.add(info.name);
        } else if (info.type === 'link') existingLinks.set(name, toExisting(info));
        else existing.set(name, toExisting(info));
      }
    }
  }

  // Directories (the tablespace placeholder pg_tblspc is not one)
  const paths: RestorePlanPath[] = [];
  for (const path of [...manifest.paths.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (path.name === 'pg_tblspc') continue;
    const root = layout.targets.find((target) => target.name === path.name);
    const versionOf = versionDirs.get(path.name);
    const exists =
      root !== undefined
        ? input.states.get(root.name)!.rootExists
        : versionOf !== undefined
          ? input.states.get(versionOf)!.exists
          : existing.get(path.name)?.type === 'path';
    paths.push(pathEntry(path, layout.destination(path.name), exists, input));
  }

  // Links
  const links: RestorePlanLink[] = [];
  for (const link of [...input.links.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const found = existingLinks.get(link.name);
    links.push({
      name: link.name,
      path: layout.linkLocation(link.name),
      destination: link.destination,
      action: found?.linkDestination === link.destination ? 'keep' : 'create',
      user: input.owner(link.user, 'user'),
      group: input.owner(link.group, 'group'),
    });
  }

  // Files
  const files: RestorePlanFile[] = [];
  const hash: HashCandidate[] = [];
  const copyStart = manifest.backup.timestampCopyStart;
  for (const file of [...input.files].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = layout.destination(file.name);
    const found = existing.get(file.name);
    const present = found?.type === 'file' ? found : undefined;
    let action: RestorePlanFile['action'] = present === undefined ? 'create' : 'replace';
    let reason = present === undefined ? 'missing' : 'force';
    let truncateFrom: number | null = null;
    // Never compared (pgBackRest's delta skips them too): made anew as zeros, whatever is there.
    const zeroed = input.zeroed?.(file.name) === true;
    if (zeroed) reason = 'database excluded from the restore: zeroed';
    else if (file.name === PG_CONTROL_NAME) reason = 'written last, so that an interrupted restore cannot be started';
    else if (present !== undefined && input.delta && input.force) {
      const same = present.size === file.size && present.mtime === file.timestamp && present.mtime < copyStart;
      action = same ? 'keep' : 'replace';
      reason = same ? 'size and modification time match' : 'size or modification time differs';
    } else if (present !== undefined && input.delta) {
      if (present.size < file.size) reason = 'smaller than in the backup';
      else if (file.size === 0) {
        action = 'keep';
        reason = 'zero size';
        truncateFrom = present.size > 0 ? present.size : null;
      } else {
        reason = 'checksum differs';
        hash.push({ index: files.length, path, size: file.size, existingSize: present.size });
      }
    }
    const target = layout.targetOf(file.name);
    files.push({
      name: file.name,
      path,
      action,
      reason,
      size: file.size,
      checksum: fileChecksum(file)!,
      timestamp: file.timestamp,
      mode: file.mode,
      user: input.owner(file.user, 'user'),
      group: input.owner(file.group, 'group'),
      repo: action === 'keep' || file.size === 0 || zeroed ? null : repoFile(manifest, file, input.backupPath),
      truncateFrom,
      zeroed,
      queue: layout.queueOf(file.name),
      target: target.name,
    });
  }
  return { files, paths, links, removals, hash };
}

/** The repository file of a manifest file (a bundle slice when bundled). */
export function repoFile(manifest: Manifest, file: ManifestFile, backupPath: string): RestorePlanRepoFile {
  const bundled = file.bundleId !== undefined && file.bundleId !== 0;
  return {
    path: `${backupPath}/${manifestFileRepoPath(manifest, file)}`,
    offset: bundled ? (file.bundleOffset ?? 0) : null,
    limit: bundled ? file.sizeRepo : null,
    size: file.sizeRepo,
    compressType: manifest.options.compressType,
    label: file.reference ?? manifest.backup.label,
  };
}

function pathEntry(
  path: { name: string; mode: number; user: Owner; group: Owner },
  destination: string,
  exists: boolean,
  input: FilePlanInput,
): RestorePlanPath {
  return {
    name: path.name,
    path: destination,
    action: exists ? 'keep' : 'create',
    mode: path.mode,
    user: input.owner(path.user, 'user'),
    group: input.owner(path.group, 'group'),
  };
}

/** Why an entry found in a target goes (undefined: the backup has it as what it is). */
function cleanDecision(
  name: string,
  info: StorageInfo,
  files: ReadonlySet<string>,
  manifest: Manifest,
  links: ReadonlyMap<string, MappedLink>,
): string | undefined {
  const link = links.get(name);
  switch (info.type) {
    case 'file':
      if (link !== undefined) return 'the backup has a link here';
      return files.has(name) ? undefined : manifest.paths.has(name) ? 'the backup has a directory here' : 'not in the backup';
    case 'link':
      if (link === undefined)
        return files.has(name) || manifest.paths.has(name) ? 'a link where the backup has no link' : 'not in the backup';
      return link.destination === info.linkDestination ? undefined : `destination changed (was '${info.linkDestination ?? ''}')`;
    case 'path':
      if (link !== undefined) return 'the backup has a link here';
      return manifest.paths.has(name) ? undefined : files.has(name) ? 'the backup has a file here' : 'not in the backup';
    default:
      return 'special file';
  }
}

function underRemoved(name: string, removed: ReadonlySet<string>): boolean {
  for (let parent = dirname(name); parent !== '.'; parent = dirname(parent)) if (removed.has(parent)) return true;
  return false;
}

function toExisting(info: StorageInfo): Existing {
  return { type: info.type, size: info.size, mtime: info.mtime, linkDestination: info.linkDestination };
}
