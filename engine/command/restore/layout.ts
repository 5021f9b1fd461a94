import { basename, dirname } from 'node:path';

import type { MappedTarget } from './target-map.js';

const PG_DATA = 'pg_data';
const TABLESPACE_NAME = /^pg_tblspc\/[0-9]+(?=\/|$)/;

/**
 * Where each manifest name goes once the maps are applied: names under a tablespace go to its
 * location, names under a link restored as a link to the link's destination, everything else
 * into the data directory. Names were validated (validateManifestPaths) before they get here: no
 * `..`, no absolute path, nothing outside pg_data/ and pg_tblspc/<oid>/.
 */
export class RestoreLayout {
  private readonly tablespaces = new Map<string, MappedTarget>();
  /** Links restored as links, longest name first so the innermost wins. */
  private readonly links: MappedTarget[];
  readonly data: MappedTarget;

  constructor(readonly targets: readonly MappedTarget[]) {
    this.data = targets.find((target) => target.kind === 'data')!;
    for (const target of targets) if (target.kind === 'tablespace') this.tablespaces.set(target.name, target);
    this.links = targets
      .filter((target) => target.kind === 'path-link' || target.kind === 'file-link')
      .sort((a, b) => b.name.length - a.name.length);
  }

  /** The target that holds a manifest name (`pg_tblspc` itself belongs to the data directory). */
  targetOf(name: string): MappedTarget {
    const tablespace = TABLESPACE_NAME.exec(name);
    if (tablespace !== null) return this.tablespaces.get(tablespace[0]) ?? this.data;
    for (const link of this.links) if (name === link.name || name.startsWith(`${link.name}/`)) return link;
    return this.data;
  }

  /** The absolute path of a manifest file or path name. */
  destination(name: string): string {
    const target = this.targetOf(name);
    if (target.kind === 'file-link') return `${target.absolutePath}/${target.file!}`;
    const rest = name.slice(target.name.length);
    return target.kind === 'data' && name === 'pg_tblspc' ? `${target.absolutePath}/pg_tblspc` : `${target.absolutePath}${rest}`;
  }

  /** Where a link (`pg_data/pg_tblspc/16384`) is made: in the directory its name says, never through itself. */
  linkLocation(name: string): string {
    return `${this.destination(dirname(name))}/${basename(name)}`;
  }

  /** The queue of a name's file job: the data directory or its tablespace (pgBackRest's processing queues). */
  queueOf(name: string): string {
    return TABLESPACE_NAME.exec(name)?.[0] ?? PG_DATA;
  }
}
