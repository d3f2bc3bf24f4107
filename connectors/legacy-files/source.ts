/**
 * Reads of a file source, for both entities: each read first applies the complete files waiting
 * in the inbox (ingest.ts), then returns a page of SKUs from the connector's memory (memory.ts).
 *
 * Read modes and cursors (the engine stores a delta cursor only after the page it came with is
 * pushed; it never stores a full one):
 * - full: every SKU the files ever reported, once each, in the order first seen (list `known`),
 *   with what the files say of it now. Heals a channel that drifted; a steady state writes
 *   nothing, as the engine diffs against its snapshot.
 * - delta: the SKUs each applied file changed, in the order the files were applied (list
 *   `changes`), from the stored cursor; a SKU changed by several files may come in several pages.
 * The cursor `{"strategy":"files","list":"known"|"changes","chunk":n,"offset":k}` is the next
 * SKU's place in one of these append-only lists: a place there never changes, so unlike an
 * offset into a query it neither skips nor repeats when files arrive.
 *
 * A SKU with a standing rejection (merge.ts) is not in the page: its rejections are, so the
 * quarantine holds them until a later file reports the SKU cleanly.
 */
import { z } from 'zod';
import type { Logger } from 'pino';
import { configError } from '../../core/errors';
import type { RejectedRecord, StockReadMode } from '../../core/model';
import type { LegacyFilesConfig } from './config';
import type { LegacyFilesSftp } from './client';
import { ingestFiles, type EntityFiles } from './ingest';
import type { FileMemory, ListName } from './memory';
import type { SkuRecord } from './merge';

export const FilesCursor = z.strictObject({
  strategy: z.literal('files'),
  list: z.enum(['known', 'changes']),
  chunk: z.number().int().min(1),
  offset: z.number().int().min(0),
});
export type FilesCursor = z.infer<typeof FilesCursor>;

export interface FileSourcePage<S> {
  /** SKUs of the page in list order, each once, with their records. */
  records: Array<{ sku: string; record: SkuRecord<S> }>;
  /** Rejections of files applied by this read that stand on no SKU. */
  rejected: RejectedRecord[];
  nextCursor: FilesCursor | null;
  resumeCursor: FilesCursor | null;
}

export class FileSource<V, S> {
  /** One read at a time per instance: a read appends to the memory's lists (memory.ts). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connectorId: string,
    private readonly client: LegacyFilesSftp,
    private readonly config: LegacyFilesConfig,
    private readonly memory: FileMemory<S>,
    private readonly reading: EntityFiles<V, S>,
    private readonly logger: Logger,
  ) {}

  read(mode: StockReadMode, cursor: unknown, limit: number): Promise<FileSourcePage<S>> {
    const run = this.queue.then(() => this.readNow(mode, cursor, limit));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readNow(mode: StockReadMode, rawCursor: unknown, limit: number): Promise<FileSourcePage<S>> {
    const list: ListName = mode === 'full' ? 'known' : 'changes';
    const cursor = parseCursor(rawCursor, list);
    const ingested = await this.client.withSession((session) => ingestFiles(session, this.config, this.memory, this.reading, this.logger, this.connectorId));
    const head = await this.memory.head();
    const slice = await this.memory.slice(list, cursor ?? { chunk: 1, offset: 0 }, Math.max(1, Math.min(Math.floor(limit), this.config.pageSize)), head[list]);
    const skus = [...new Set(slice.skus)];
    const found = await this.memory.records(skus);
    const records = skus.flatMap((sku) => {
      const record = found.get(sku);
      return record === undefined ? [] : [{ sku, record }];
    });
    const position: FilesCursor = { strategy: 'files', list, chunk: slice.after.chunk, offset: slice.after.offset };
    return {
      records,
      rejected: ingested.rejected,
      nextCursor: slice.more ? position : null,
      resumeCursor: slice.skus.length > 0 ? position : null,
    };
  }
}

/** The cursor as this connector wrote it, for the list the mode reads; a config error otherwise. */
function parseCursor(cursor: unknown, list: ListName): FilesCursor | null {
  if (cursor === null || cursor === undefined) return null;
  const parsed = FilesCursor.safeParse(cursor);
  let shown = JSON.stringify(cursor) ?? String(cursor);
  if (shown.length > 200) shown = `${shown.slice(0, 200)}…`;
  if (!parsed.success) {
    throw configError(`legacy-files: the cursor ${shown} is not one this connector writes ({"strategy":"files","list":"known"|"changes","chunk":…,"offset":…})`);
  }
  if (parsed.data.list !== list) {
    throw configError(`legacy-files: a ${list === 'known' ? 'full' : 'delta'} read resumes from a cursor of the "${list}" list, got one of the "${parsed.data.list}" list`);
  }
  return parsed.data;
}
