import { basename, dirname, isAbsolute, resolve } from 'node:path';

import type { Manifest, ManifestTarget, Owner } from '../../repo/manifest/manifest.js';
import { pgVersionByString, tablespaceDirectoryName } from '../../postgres/version-table.js';
import type { RestorePlanTarget } from './plan-json.js';
import { problem, type Problem } from './problems.js';
import type { RestoreRequest } from './request.js';

/** A target after the maps: where the data directory, a tablespace or a link goes. */
export interface MappedTarget extends Omit<RestorePlanTarget, 'exists' | 'empty' | 'filesystem' | 'stagingPath'> {
  /** The link that points to it (`pg_data/pg_tblspc/<oid>`, `pg_data/<link>`); undefined for pg_data. */
  readonly linkName: string | undefined;
  /** `path` made absolute (a relative link destination is relative to the link's directory). */
  readonly absolutePath: string;
}

/** A link the restore makes, after the maps. */
export interface MappedLink {
  readonly name: string;
  /** The destination as written in the link (may be relative). */
  readonly destination: string;
  readonly user: Owner;
  readonly group: Owner;
}

export interface TargetMapping {
  readonly targets: MappedTarget[];
  /** Links by manifest name: tablespace links and the links restored as links. */
  readonly links: Map<string, MappedLink>;
  readonly problems: Problem[];
  readonly warnings: string[];
}

const PG_DATA = 'pg_data';

/**
 * Applies --pg1-path, --tablespace-map, --tablespace-map-all, --link-map and --link-all to the
 * backup's targets (pgBackRest's restoreManifestMap), then checks the result as pgBackRest's
 * manifestLinkCheck does, plus what pgBackRest misses (a map that is not absolute, the data
 * directory inside a link's destination). Nothing is changed in the manifest: the result is new.
 */
export function mapTargets(manifest: Manifest, request: RestoreRequest): TargetMapping {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const pgPath = resolve(request.pgPath);
  const facts = pgVersionByString(manifest.db.version);
  const tablespaceDir = tablespaceDirectoryName(facts, manifest.db.catalogVersion);
  const base = manifest.targets.get(PG_DATA)!;
  const basePath = manifest.paths.get(PG_DATA);

  const targets: MappedTarget[] = [
    {
      name: PG_DATA,
      kind: 'data',
      originalPath: base.path,
      path: pgPath,
      file: null,
      tablespaceId: null,
      tablespaceName: null,
      mappedBy: base.path === pgPath ? 'backup' : 'pg1-path',
      restorePath: pgPath,
      linkName: undefined,
      absolutePath: pgPath,
    },
  ];
  const links = new Map<string, MappedLink>();
  for (const link of manifest.links.values()) links.set(link.name, { ...link });

  // Tablespaces: by name or oid, else under --tablespace-map-all
  const mapUsed = new Set<string>();
  for (const target of manifest.targets.values()) {
    if (target.tablespaceId === undefined) continue;
    const name = target.tablespaceName ?? `ts${target.tablespaceId}`;
    const byName = request.tablespaceMap[name];
    const byId = request.tablespaceMap[String(target.tablespaceId)];
    if (byName !== undefined) mapUsed.add(name);
    if (byId !== undefined) mapUsed.add(String(target.tablespaceId));
    if (byName !== undefined && byId !== undefined && byName !== byId) {
      problems.push(
        problem('TablespaceMap', `tablespace remapped by name '${name}' and id ${target.tablespaceId} with different paths`, {
          hint: 'map each tablespace once, by name or by oid',
        }),
      );
    }
    const mapped = byName ?? byId;
    const path = mapped ?? (request.tablespaceMapAll === undefined ? target.path : `${request.tablespaceMapAll}/${name}`);
    const mappedBy =
      mapped !== undefined ? 'tablespace-map' : request.tablespaceMapAll !== undefined ? 'tablespace-map-all' : 'backup';
    if (mappedBy !== 'backup' && !isAbsolute(path)) {
      problems.push(
        problem('TablespaceMap', `tablespace '${name}' is mapped to '${path}', which is not an absolute path`, {
          hint: 'PostgreSQL needs tablespace locations as absolute paths',
        }),
      );
    }
    const linkName = `${PG_DATA}/${target.name}`;
    const absolutePath = resolve(pgPath, 'pg_tblspc', path);
    targets.push({
      name: target.name,
      kind: 'tablespace',
      originalPath: target.path,
      path,
      file: null,
      tablespaceId: target.tablespaceId,
      tablespaceName: name,
      mappedBy,
      restorePath: `${absolutePath}/${tablespaceDir}`,
      linkName,
      absolutePath,
    });
    const link = links.get(linkName);
    links.set(linkName, {
      name: linkName,
      destination: path,
      user: link?.user ?? basePath?.user ?? false,
      group: link?.group ?? basePath?.group ?? false,
    });
  }
  for (const key of Object.keys(request.tablespaceMap).sort()) {
    if (!mapUsed.has(key)) {
      problems.push(
        problem('TablespaceMap', `unable to remap invalid tablespace '${key}'`, {
          hint: `the backup's tablespaces are: ${tablespaceList(manifest) || 'none'}`,
        }),
      );
    }
  }

  // Other links: mapped (or created) by --link-map; kept by --link-all; else restored as plain files and directories
  const linkTargets = new Map<string, ManifestTarget>();
  for (const target of manifest.targets.values()) {
    if (target.type === 'link' && target.tablespaceId === undefined) linkTargets.set(target.name, { ...target });
  }
  for (const key of Object.keys(request.linkMap).sort()) {
    const destination = request.linkMap[key]!;
    const name = `${PG_DATA}/${key}`;
    const existing = manifest.targets.get(name);
    if (existing?.tablespaceId !== undefined || key.startsWith('pg_tblspc/')) {
      problems.push(
        problem('LinkMap', `unable to remap tablespace '${key}'`, {
          hint: "use the 'tablespace-map' option to remap tablespaces",
        }),
      );
      continue;
    }
    let target = linkTargets.get(name);
    if (target === undefined) {
      const isPath = manifest.paths.has(name);
      const isFile = manifest.files.has(name);
      if (!isPath && !isFile) {
        problems.push(
          problem('LinkMap', `unable to map link '${key}'`, { hint: 'does the link reference a valid backup path or file?' }),
        );
        continue;
      }
      target = { name, type: 'link', path: destination, file: isFile ? '.' : undefined };
      links.set(name, { name, destination, user: basePath?.user ?? false, group: basePath?.group ?? false });
    } else {
      const link = links.get(name);
      links.set(name, { name, destination, user: link?.user ?? false, group: link?.group ?? false });
    }
    if (target.file !== undefined) {
      if (!destination.includes('/')) {
        problems.push(
          problem('LinkMap', `'${destination}' is not long enough to be the destination for file link '${key}'`, {
            hint: 'give the file link a destination with a directory, e.g. /etc/postgresql/postgresql.conf',
          }),
        );
        continue;
      }
      target = { ...target, path: dirname(destination), file: basename(destination) };
    } else target = { ...target, path: destination };
    linkTargets.set(name, target);
  }
  for (const target of [...linkTargets.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const key = target.name.slice(PG_DATA.length + 1);
    const mapped = request.linkMap[key] !== undefined;
    if (!mapped && !request.linkAll) {
      warnings.push(
        target.file !== undefined
          ? `file link '${key}' will be restored as a file at the same location`
          : `contents of directory link '${key}' will be restored in a directory at the same location`,
      );
      links.delete(target.name);
      continue;
    }
    const linkDir = dirname(resolve(pgPath, target.name.slice(PG_DATA.length + 1)));
    const absolutePath = resolve(linkDir, target.path);
    targets.push({
      name: target.name,
      kind: target.file !== undefined ? 'file-link' : 'path-link',
      originalPath: originalPathOf(manifest.targets.get(target.name), `${base.path}/${key}`),
      path: target.path,
      file: target.file ?? null,
      tablespaceId: null,
      tablespaceName: null,
      mappedBy: mapped ? 'link-map' : 'backup',
      restorePath: absolutePath,
      linkName: target.name,
      absolutePath,
    });
    if (target.file !== undefined) {
      const link = links.get(target.name)!;
      links.set(target.name, { ...link, destination: `${target.path}/${target.file}` });
    }
  }

  problems.push(...checkLinks(targets, pgPath));
  problems.push(...checkRepositories(targets, request.repos));
  return { targets, links, problems, warnings };
}

function originalPathOf(target: ManifestTarget | undefined, inDataDirectory: string): string {
  if (target === undefined) return inDataDirectory;
  return target.file === undefined ? target.path : `${target.path}/${target.file}`;
}

function tablespaceList(manifest: Manifest): string {
  return [...manifest.targets.values()]
    .filter((target) => target.tablespaceId !== undefined)
    .map((target) => `${target.tablespaceName ?? ''} (oid ${target.tablespaceId})`)
    .join(', ');
}

/**
 * No target may hold a repository, nor lie within one's backups or archive: a delta restore
 * removes from its targets whatever the backup does not have, so the repository would go with
 * it. (pgBackRest has no such check.) A tablespace is cleaned only in its version directory; a
 * file link replaces only its file.
 */
function checkRepositories(targets: readonly MappedTarget[], repos: RestoreRequest['repos']): Problem[] {
  const problems: Problem[] = [];
  const inside = (path: string, parent: string) => `${path}/`.startsWith(`${parent}/`);
  for (const target of targets) {
    if (target.file !== null) continue;
    const cleaned = target.kind === 'tablespace' ? target.restorePath : target.absolutePath;
    for (const repo of repos) {
      const repoPath = repo.storage.resolve('.');
      const within = ['backup', 'archive'].map((dir) => `${repoPath}/${dir}`).find((dir) => inside(cleaned, dir));
      if (!inside(repoPath, cleaned) && within === undefined) continue;
      const what =
        target.kind === 'data'
          ? `the data directory ${cleaned}`
          : `${target.kind === 'tablespace' ? 'tablespace' : 'link'} '${target.name.replace(/^pg_data\//, '')}' (${cleaned})`;
      problems.push(
        problem(
          'PathNotEmpty',
          within === undefined
            ? `${what} holds repo${repo.index} (${repoPath}): the restore would remove the repository`
            : `${what} is inside repo${repo.index}'s ${within}`,
          { hint: 'restore somewhere outside the repository (--pg1-path, --tablespace-map, --link-map)' },
        ),
      );
    }
  }
  return problems;
}

/**
 * pgBackRest's manifestLinkCheck on the mapped targets: no link destination inside the data
 * directory, no two links to the same directory or file, no directory link inside another's
 * destination; and, beyond it, the data directory not inside a directory link's destination (the
 * restore would clean the data directory away with the link's contents).
 */
function checkLinks(targets: readonly MappedTarget[], pgPath: string): Problem[] {
  const problems: Problem[] = [];
  const inside = (path: string, parent: string) => `${path}/`.startsWith(`${parent}/`);
  const links = targets.filter((target) => target.kind !== 'data');
  const show = (target: MappedTarget) => `${target.name.replace(/^pg_data\//, '')} (${target.absolutePath})`;
  for (const target of links) {
    if (inside(target.absolutePath, pgPath)) {
      problems.push(
        problem(
          'LinkDestination',
          `link '${target.name.replace(/^pg_data\//, '')}' destination '${target.absolutePath}' is in PGDATA`,
          {
            hint:
              target.kind === 'tablespace'
                ? 'map the tablespace outside the data directory with --tablespace-map'
                : 'map the link outside the data directory with --link-map, or restore it as a directory (without --link-all)',
          },
        ),
      );
    } else if (target.kind === 'path-link' && inside(pgPath, target.absolutePath)) {
      problems.push(
        problem('LinkDestination', `the data directory ${pgPath} is inside the destination of link ${show(target)}`, {
          hint: "the restore would clean the data directory with the link's contents: map the link elsewhere with --link-map",
        }),
      );
    } else if (target.kind === 'tablespace' && inside(pgPath, target.restorePath)) {
      problems.push(
        problem('LinkDestination', `the data directory ${pgPath} is inside tablespace ${show(target)}`, {
          hint: 'map the tablespace elsewhere with --tablespace-map',
        }),
      );
    }
  }
  for (let first = 0; first < links.length; first++) {
    for (let second = first + 1; second < links.length; second++) {
      const a = links[first]!;
      const b = links[second]!;
      if (a.absolutePath === b.absolutePath) {
        if (a.file !== null && b.file !== null) {
          if (a.file === b.file)
            problems.push(
              problem('LinkDestination', `link ${show(a)}/${a.file} destination is the same file as link ${show(b)}/${b.file}`, {
                hint: 'map one of them elsewhere with --link-map',
              }),
            );
        } else {
          problems.push(
            problem('LinkDestination', `link ${show(a)} destination is the same directory as link ${show(b)}`, {
              hint: 'two tablespaces or links cannot be restored to one place: map one of them elsewhere',
            }),
          );
        }
        continue;
      }
      if (a.file !== null || b.file !== null) continue;
      const [outer, inner] = inside(a.absolutePath, b.absolutePath)
        ? [b, a]
        : inside(b.absolutePath, a.absolutePath)
          ? [a, b]
          : [];
      if (outer !== undefined && inner !== undefined) {
        problems.push(
          problem('LinkDestination', `link ${show(inner)} destination is a subdirectory of link ${show(outer)}`, {
            hint: 'map one of them elsewhere so neither holds the other',
          }),
        );
      }
    }
  }
  return problems;
}
