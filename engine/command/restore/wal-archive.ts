import { toPgkeepError } from '../../error/pgkeep-error.js';
import { decryptBuffer } from '../../filter/cipher.js';
import { compressTypeFromExtension } from '../../filter/compress-type.js';
import type { FilterSpec } from '../../filter/filter-spec.js';
import { runPipeline } from '../../filter/pipeline.js';
import { historyFileName, parseTimelineHistory, type TimelineHistoryEntry } from '../../postgres/wal.js';
import { parseStoredSegmentName, WAL_SEGMENT_DIR_REGEX } from '../../repo/archive/archive-path.js';
import { archiveIdsFor } from '../../repo/info/archive-info.js';
import { archiveStanzaPath, loadStanzaArchiveInfo, type StanzaRepo } from '../common/stanza-repo.js';
import { findWalFile } from '../archive-get/get-file.js';

/** Where a segment is stored. */
export interface StoredSegment {
  readonly repo: StanzaRepo;
  readonly archiveId: string;
  /** Path in the repository storage. */
  readonly path: string;
  /** archive.info's passphrase of the WAL files, in an encrypted repository. */
  readonly cipherPass: string | undefined;
}

interface Source {
  readonly repo: StanzaRepo;
  readonly archiveIds: readonly string[];
  readonly cipherPass: string | undefined;
}

/**
 * The WAL archive as restore_command will see it: every repository archive-get searches, and in
 * each the archive ids of the backup's cluster (system id and version), newest first, as
 * archive-get looks them up. Directories are listed once and kept, so walking thousands of
 * segments costs one listing per 256 of them.
 */
export class WalArchive {
  private readonly listings = new Map<string, Map<string, StoredSegment>>();
  private readonly histories = new Map<number, TimelineHistoryEntry[] | undefined>();
  readonly warnings: string[] = [];

  private constructor(
    private readonly sources: readonly Source[],
    private readonly pg: { readonly systemId: bigint; readonly version: string },
  ) {}

  static async open(repos: readonly StanzaRepo[], pg: { systemId: bigint; version: string }): Promise<WalArchive> {
    const sources: Source[] = [];
    const warnings: string[] = [];
    for (const repo of repos) {
      try {
        const info = await loadStanzaArchiveInfo(repo);
        sources.push({ repo, archiveIds: archiveIdsFor(info, pg.systemId, pg.version), cipherPass: info.cipherPass });
      } catch (caught) {
        const error = toPgkeepError(caught);
        warnings.push(`repo${repo.index}: archive cannot be read: [${error.errorName}] ${error.message}`);
      }
    }
    const archive = new WalArchive(sources, pg);
    archive.warnings.push(...warnings);
    return archive;
  }

  get archiveIds(): string[] {
    return [...new Set(this.sources.flatMap((source) => source.archiveIds))];
  }

  /** The stored copy of a complete segment (24 characters), undefined when no repository has it. */
  async segment(name: string): Promise<StoredSegment | undefined> {
    return (await this.directory(name.slice(0, 16))).get(name);
  }

  /** Every stored complete segment of a timeline+xlogid directory, by segment name. */
  private async directory(dir: string): Promise<Map<string, StoredSegment>> {
    let listing = this.listings.get(dir);
    if (listing !== undefined) return listing;
    listing = new Map();
    for (const { repo, archiveIds, cipherPass } of this.sources) {
      for (const archiveId of archiveIds) {
        const path = `${archiveStanzaPath(repo.stanza)}/${archiveId}/${dir}`;
        for (const entry of await repo.storage.list(path, { ignoreMissing: true })) {
          const stored = parseStoredSegmentName(entry.name);
          if (stored === undefined || stored.partial || listing.has(stored.segment)) continue;
          listing.set(stored.segment, { repo, archiveId, path: `${path}/${entry.name}`, cipherPass });
        }
      }
    }
    this.listings.set(dir, listing);
    return listing;
  }

  /** The newest stored segment of a timeline (by name), undefined when it has none. */
  async newestSegment(timeline: number): Promise<string | undefined> {
    const prefix = timeline.toString(16).toUpperCase().padStart(8, '0');
    const dirs = new Set<string>();
    for (const { repo, archiveIds } of this.sources) {
      for (const archiveId of archiveIds) {
        for (const entry of await repo.storage.list(`${archiveStanzaPath(repo.stanza)}/${archiveId}`, { ignoreMissing: true })) {
          if (entry.type === 'path' && WAL_SEGMENT_DIR_REGEX.test(entry.name) && entry.name.startsWith(prefix))
            dirs.add(entry.name);
        }
      }
    }
    for (const dir of [...dirs].sort().reverse()) {
      const names = [...(await this.directory(dir)).keys()].sort();
      if (names.length > 0) return names.at(-1);
    }
    return undefined;
  }

  /** A timeline's history (its ancestors and where each ended), undefined when the archive has no history file for it. */
  async history(timeline: number): Promise<TimelineHistoryEntry[] | undefined> {
    if (this.histories.has(timeline)) return this.histories.get(timeline);
    let found: TimelineHistoryEntry[] | undefined;
    const name = historyFileName(timeline);
    for (const { repo } of this.sources) {
      const file = await findWalFile(name, repo, this.pg).catch(() => undefined);
      if (file === undefined) continue;
      const stored = (await repo.storage.readBuffer(file.path))!;
      const plain =
        file.cipherPass === undefined ? stored : decryptBuffer(stored, file.cipherPass, repo.storage.resolve(file.path));
      const text = plain.toString('utf8');
      found = parseTimelineHistory(text, repo.storage.resolve(file.path));
      break;
    }
    this.histories.set(timeline, found);
    return found;
  }

  /** Streams a stored segment's plain bytes to `consume`. */
  async read(stored: StoredSegment, consume: (data: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
    const source = await stored.repo.storage.read(stored.path);
    const file = stored.repo.storage.resolve(stored.path);
    const decrypt: FilterSpec[] = stored.cipherPass === undefined ? [] : [{ type: 'decrypt', pass: stored.cipherPass, file }];
    await runPipeline(
      source!,
      [...decrypt, { type: 'decompress', compressType: compressTypeFromExtension(stored.path), file }],
      consume,
    );
  }
}
