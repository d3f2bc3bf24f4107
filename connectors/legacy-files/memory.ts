/**
 * The connector's durable memory, per entity, kept in the hub's state store through the
 * connector's crosswalk (ConnectorDeps.crosswalk): one key-value table the hub already persists,
 * migrates and backs up with the cursors and snapshots, in SQLite or PostgreSQL alike, scoped to
 * the connector id. A database of the connector's own would be one more thing to configure,
 * back up and keep consistent with the cursors that point into it; and the state store is where
 * those cursors live, so a restore brings both back together.
 *
 * Keys (crosswalk kind `legacy-files:<entity>`):
 * - `file:<sha256>`: a file that was applied (name, order, when): the same content delivered
 *   again is not applied twice.
 * - `sku:<sku>`: what the files said of the SKU, per part, with the order of the data (merge.ts).
 * - `known:<n>`: chunks of the SKUs in the order they were first seen: full reads page through
 *   them, each SKU once.
 * - `changes:<n>`: chunks of the SKUs each applied file changed, in the order the files were
 *   applied: delta reads page through them from the cursor they stored.
 * - `head`: how many chunks each list has and how full its last one is.
 *
 * A file is applied in one `put` (one transaction of the state store): its records, the list
 * chunks it appends to, the head and its hash together, so a worker killed in between leaves
 * either all of it or nothing. The crosswalk has no compare-and-set, so one instance serialises
 * its reads (source.ts); two worker processes reading the same connector at the same moment
 * could append to a list at once, which is why a connector's reads are best kept to one sync
 * schedule at a time (docs/files-over-sftp.md).
 */
import type { CrosswalkStore } from '../../core/model';
import { configError } from '../../core/errors';
import type { SkuRecord } from './merge';

/** SKUs per list chunk: small enough to rewrite the last chunk on every append, large enough for few keys. */
export const LIST_CHUNK_SIZE = 500;

export type ListName = 'known' | 'changes';

export interface ListHead {
  chunks: number;
  /** SKUs in the last chunk. */
  fill: number;
}

export interface MemoryHead {
  known: ListHead;
  changes: ListHead;
}

/** A position in a list: the next SKU is at `offset` of chunk `chunk` (1-based). */
export interface ListPosition {
  chunk: number;
  offset: number;
}

export interface AppliedFileEntry {
  name: string;
  order: string;
  appliedAt: string;
}

const EMPTY_HEAD: MemoryHead = { known: { chunks: 0, fill: 0 }, changes: { chunks: 0, fill: 0 } };

export class FileMemory<S> {
  private readonly kind: string;

  constructor(
    private readonly crosswalk: CrosswalkStore,
    entity: string,
  ) {
    this.kind = `legacy-files:${entity}`;
  }

  async head(): Promise<MemoryHead> {
    const found = (await this.crosswalk.get(this.kind, ['head'])).get('head');
    return found === undefined ? EMPTY_HEAD : (JSON.parse(found) as MemoryHead);
  }

  async appliedFile(hash: string): Promise<AppliedFileEntry | undefined> {
    const found = (await this.crosswalk.get(this.kind, [`file:${hash}`])).get(`file:${hash}`);
    return found === undefined ? undefined : (JSON.parse(found) as AppliedFileEntry);
  }

  async records(skus: readonly string[]): Promise<Map<string, SkuRecord<S>>> {
    const found = await this.crosswalk.get(this.kind, skus.map((sku) => `sku:${sku}`));
    const records = new Map<string, SkuRecord<S>>();
    for (const [key, value] of found) records.set(key.slice('sku:'.length), JSON.parse(value) as SkuRecord<S>);
    return records;
  }

  /**
   * Writes an applied file at once: its changed records, the SKUs it changed (and the ones seen
   * for the first time) appended to the lists, the head, and the file's hash.
   */
  async commitFile(hash: string, file: AppliedFileEntry, records: ReadonlyMap<string, SkuRecord<S>>, changedSkus: readonly string[], newSkus: readonly string[]): Promise<void> {
    const head = await this.head();
    const entries = new Map<string, string>();
    for (const [sku, record] of records) entries.set(`sku:${sku}`, JSON.stringify(record));
    const known = await this.appended('known', head.known, newSkus, entries);
    const changes = await this.appended('changes', head.changes, changedSkus, entries);
    entries.set('head', JSON.stringify({ known, changes } satisfies MemoryHead));
    entries.set(`file:${hash}`, JSON.stringify(file));
    await this.crosswalk.put(this.kind, entries);
  }

  /** Adds the chunks that append `skus` to a list to `entries`; returns the list's new head. */
  private async appended(list: ListName, head: ListHead, skus: readonly string[], entries: Map<string, string>): Promise<ListHead> {
    if (skus.length === 0) return head;
    let chunks = head.chunks;
    let last: string[] = [];
    if (chunks > 0 && head.fill < LIST_CHUNK_SIZE) last = (await this.chunks(list, chunks, chunks)).get(chunks) ?? [];
    else chunks += 1;
    for (const sku of skus) {
      if (last.length === LIST_CHUNK_SIZE) {
        entries.set(`${list}:${chunks}`, JSON.stringify(last));
        chunks += 1;
        last = [];
      }
      last.push(sku);
    }
    entries.set(`${list}:${chunks}`, JSON.stringify(last));
    return { chunks, fill: last.length };
  }

  private async chunks(list: ListName, from: number, to: number): Promise<Map<number, string[]>> {
    const keys: string[] = [];
    for (let n = from; n <= to; n++) keys.push(`${list}:${n}`);
    const found = await this.crosswalk.get(this.kind, keys);
    const chunks = new Map<number, string[]>();
    for (const [key, value] of found) chunks.set(Number(key.slice(list.length + 1)), JSON.parse(value) as string[]);
    return chunks;
  }

  /**
   * Up to `limit` SKUs of a list from `position`; the position after them, and whether the
   * list holds more after it. A position the list cannot have given is a config error: the
   * stored cursor belongs to other data (e.g. the state store was restored without it).
   */
  async slice(list: ListName, position: ListPosition, limit: number, head: ListHead): Promise<{ skus: string[]; after: ListPosition; more: boolean }> {
    const lastChunk = Math.max(1, head.chunks);
    if (position.chunk > lastChunk || (position.chunk === head.chunks && position.offset > head.fill) || (head.chunks === 0 && position.offset > 0)) {
      throw configError(
        `legacy-files: the cursor at chunk ${position.chunk}, offset ${position.offset} of the "${list}" list points past what this connector remembers ` +
          `(${head.chunks} chunks, ${head.fill} SKUs in the last): the stored cursor is not of this connector's memory; start a full read, or delete the sync's delta cursor`,
      );
    }
    const skus: string[] = [];
    let { chunk, offset } = position;
    const wanted = Math.min(head.chunks, chunk + Math.ceil(limit / LIST_CHUNK_SIZE) + 1);
    const chunks = head.chunks === 0 ? new Map<number, string[]>() : await this.chunks(list, chunk, wanted);
    while (skus.length < limit && chunk <= head.chunks) {
      const content = chunks.get(chunk) ?? (await this.chunks(list, chunk, chunk)).get(chunk) ?? [];
      const taken = content.slice(offset, offset + (limit - skus.length));
      skus.push(...taken);
      offset += taken.length;
      if (offset < content.length) break;
      if (chunk === head.chunks) break;
      chunk += 1;
      offset = 0;
    }
    const more = chunk < head.chunks || (chunk === head.chunks && offset < head.fill);
    return { skus, after: { chunk, offset }, more };
  }
}
