import { Readable } from 'node:stream';

import type { ListOptions, ReadOptions, Storage, StorageInfo, WriteOptions } from '../../../../engine/storage/storage.js';

/**
 * Files held in memory behind the Storage interface, implementing only what the repo code calls
 * (read, readBuffer, write, list). Every write is recorded in order, so tests can check which
 * file was written first. Chunked reads exercise the line splitter across chunk boundaries.
 */
export class MemoryStorage implements Storage {
  readonly basePath = '/memory';
  readonly files = new Map<string, Buffer>();
  readonly writes: string[] = [];
  /** Size of the chunks read() hands out. */
  chunkSize = 7;

  constructor(files: Record<string, string | Buffer> = {}) {
    for (const [path, content] of Object.entries(files)) this.files.set(path, Buffer.from(content));
  }

  text(path: string): string | undefined {
    return this.files.get(path)?.toString('utf8');
  }

  resolve(path: string): string {
    return path.startsWith('/') ? path : `${this.basePath}/${path}`;
  }

  /** Files are keyed by their path relative to the base; absolute paths under it work too. */
  private key(path: string): string {
    return path.startsWith(`${this.basePath}/`) ? path.slice(this.basePath.length + 1) : path;
  }

  async readBuffer(path: string, options: ReadOptions = {}): Promise<Buffer | undefined> {
    const content = this.files.get(this.key(path));
    if (content === undefined && options.ignoreMissing !== true)
      throw Object.assign(new Error(`ENOENT: no such file '${path}'`), { code: 'ENOENT' });
    return content === undefined ? undefined : Buffer.from(content);
  }

  async read(path: string, options: ReadOptions = {}): Promise<Readable | undefined> {
    const content = await this.readBuffer(path, options);
    if (content === undefined) return undefined;
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < content.length; offset += this.chunkSize)
      chunks.push(content.subarray(offset, offset + this.chunkSize));
    return Readable.from(chunks);
  }

  async write(path: string, source: Readable | AsyncIterable<Uint8Array> | Uint8Array, _options?: WriteOptions): Promise<void> {
    let content: Buffer;
    if (source instanceof Uint8Array) content = Buffer.from(source);
    else {
      const chunks: Buffer[] = [];
      for await (const chunk of source as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
      content = Buffer.concat(chunks);
    }
    this.files.set(this.key(path), content);
    this.writes.push(this.key(path));
  }

  async list(path: string, options: ListOptions = {}): Promise<StorageInfo[]> {
    const prefix = `${this.key(path)}/`;
    const names = new Set<string>();
    for (const file of this.files.keys()) {
      if (!file.startsWith(prefix)) continue;
      names.add(file.slice(prefix.length).split('/')[0]!);
    }
    if (names.size === 0 && options.ignoreMissing !== true)
      throw Object.assign(new Error(`ENOENT: no such directory '${path}'`), { code: 'ENOENT' });
    return [...names]
      .filter((name) => options.filter === undefined || options.filter.test(name))
      .map((name) => ({ name, type: 'file', size: 0, mtime: 0, mode: 0o640, uid: 0, gid: 0, user: null, group: null }));
  }

  info(): Promise<StorageInfo | undefined> {
    throw new Error('not implemented in MemoryStorage');
  }
  exists(path: string): Promise<boolean> {
    return Promise.resolve(this.files.has(this.key(path)));
  }
  pathExists(): Promise<boolean> {
    throw new Error('not implemented in MemoryStorage');
  }
  remove(): Promise<void> {
    throw new Error('not implemented in MemoryStorage');
  }
  move(): Promise<void> {
    throw new Error('not implemented in MemoryStorage');
  }
  pathCreate(): Promise<void> {
    throw new Error('not implemented in MemoryStorage');
  }
  pathRemove(): Promise<void> {
    throw new Error('not implemented in MemoryStorage');
  }
  pathSync(): Promise<void> {
    throw new Error('not implemented in MemoryStorage');
  }
  symlink(): Promise<void> {
    throw new Error('not implemented in MemoryStorage');
  }
  hardlink(): Promise<void> {
    throw new Error('not implemented in MemoryStorage');
  }
}
