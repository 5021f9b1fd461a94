import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import type { BuiltManifest } from '../../../engine/command/backup/manifest-build/build-manifest.js';
import { loadManifestFile, type Manifest } from '../../../engine/repo/manifest/manifest.js';
import { PosixStorage } from '../../../engine/storage/posix/posix-storage.js';

/** What the manifest build decides, in plain objects that compare with toEqual (files by name). */
export interface ManifestView {
  targets: Record<string, unknown>;
  paths: Record<string, unknown>;
  links: Record<string, unknown>;
  files: Record<string, { size: number; timestamp: number; user: string | false; group: string | false; mode: string }>;
}

export function view(manifest: BuiltManifest, skipFiles: (name: string) => boolean = () => false): ManifestView {
  const files: ManifestView['files'] = {};
  for (const file of manifest.files.values()) {
    if (skipFiles(file.name)) continue;
    files[file.name] = {
      size: file.size,
      timestamp: file.timestamp,
      user: file.user,
      group: file.group,
      mode: file.mode.toString(8),
    };
  }
  const plain = <T extends object>(map: Map<string, T>, pick: (value: T) => unknown) =>
    Object.fromEntries([...map].map(([name, value]) => [name, pick(value)]));
  return {
    targets: plain(manifest.targets, (target) => ({
      type: target.type,
      path: target.path,
      file: target.file,
      tablespaceId: target.tablespaceId,
      tablespaceName: target.tablespaceName,
    })),
    paths: plain(manifest.paths, (path) => ({ user: path.user, group: path.group, mode: path.mode.toString(8) })),
    links: plain(manifest.links, (link) => ({ destination: link.destination, user: link.user, group: link.group })),
    files,
  };
}

/** The newest backup's manifest in a pgBackRest repository. */
export async function latestManifest(repoPath: string, stanza: string): Promise<Manifest> {
  const backupPath = join(repoPath, 'backup', stanza);
  const labels = readdirSync(backupPath)
    .filter((name) => /^\d{8}-\d{6}F/.test(name))
    .sort();
  const storage = new PosixStorage({ basePath: backupPath });
  return (await loadManifestFile(storage, `${labels.at(-1)!}/backup.manifest`)).value;
}
