/**
 * Taking the complete files of one entity out of the inbox, as real drops behave:
 *
 * 1. List the inbox; keep the complete files of the entity's patterns (file-names.ts: marker or
 *    stable name), at most `maxFilesPerRead`, oldest first by the order their names or times give.
 * 2. Read each; the same content applied before (its SHA-256 is remembered) is archived without
 *    being applied again.
 * 3. Parse it. A file that cannot be read as its pattern says (wrong encoding, missing header
 *    columns, not the EDIFACT message expected, no order in its name) goes to the error folder
 *    with `<name>.reason.txt` beside it (written under a temporary name, then renamed).
 * 4. Apply the files in their order (merge.ts: per SKU and part, older data never overwrites
 *    newer), each in one write of the connector's memory (memory.ts), and only then move the
 *    file to the archive and remove its marker. A worker killed between the write and the move
 *    finds the file again next time, recognises its hash and archives it.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { RejectedRecord } from '../../core/model';
import type { FileEntity, FilePattern, LegacyFilesConfig } from './config';
import { fileOrder, readyFiles, type ListedFile, type ReadyFile } from './file-names';
import type { SftpSession } from './client';
import type { FileMemory } from './memory';
import { mergeReport } from './merge';
import type { FileReport, FileRow } from './report';

/** How one entity reads its files. */
export interface EntityFiles<V, S> {
  entity: FileEntity;
  /** Parses a file of `pattern`; throws when the file as a whole cannot be read. */
  parse(bytes: Buffer, pattern: FilePattern, utcOffset: string): FileReport<V>;
  /** A part's rows → the value remembered. */
  combine(rows: ReadonlyArray<FileRow<V>>): S;
  /** "SKU X at location Y", for messages. */
  describePart(sku: string, part: string): string;
}

export interface IngestResult {
  /** Rejections standing on no SKU, quarantined once (merge.ts). */
  rejected: RejectedRecord[];
  applied: string[];
  duplicates: string[];
  failed: string[];
}

interface ParsedFile<V> {
  ready: ReadyFile;
  hash: string;
  report: FileReport<V>;
  order: string;
  at: string;
}

export async function ingestFiles<V, S>(
  session: SftpSession,
  config: Pick<LegacyFilesConfig, 'files' | 'readyWhen' | 'utcOffset' | 'maxFilesPerRead'>,
  memory: FileMemory<S>,
  reading: EntityFiles<V, S>,
  logger: Logger,
  connectorId: string,
): Promise<IngestResult> {
  const result: IngestResult = { rejected: [], applied: [], duplicates: [], failed: [] };
  const listing = await session.list('inbox');
  const candidates = byPreliminaryOrder(readyFiles(listing, config, reading.entity), config.utcOffset).slice(0, config.maxFilesPerRead);
  const parsed: Array<ParsedFile<V>> = [];
  const now = new Date().toISOString();
  for (const ready of candidates) {
    const { file, pattern, patternIndex } = ready;
    const bytes = await session.read('inbox', file.name);
    const hash = createHash('sha256').update(bytes).digest('hex');
    const earlier = await memory.appliedFile(hash);
    if (earlier !== undefined) {
      await archive(session, ready, hash);
      result.duplicates.push(file.name);
      logger.info({ connector: connectorId, file: file.name, sameAs: earlier.name, appliedAt: earlier.appliedAt }, 'legacy-files: a file applied before was delivered again; archived without applying it');
      continue;
    }
    let report: FileReport<V>;
    try {
      report = reading.parse(bytes, pattern, config.utcOffset);
    } catch (err) {
      // Parsing is pure on the file's bytes: whatever it throws, this file is the problem, and
      // retrying cannot help. It leaves the inbox so the next files are not held up behind it.
      await moveToErrors(session, ready, hash, `cannot be read as files[${patternIndex}] (${pattern.match}, ${pattern.format.type}): ${err instanceof Error ? err.message : String(err)}`);
      result.failed.push(file.name);
      logger.warn({ connector: connectorId, file: file.name, pattern: patternIndex }, 'legacy-files: unreadable file moved to the error folder');
      continue;
    }
    const order = fileOrder(file, pattern.order, patternIndex, config.utcOffset, report.documentTime);
    if (!order.ok) {
      await moveToErrors(session, ready, hash, order.reason);
      result.failed.push(file.name);
      logger.warn({ connector: connectorId, file: file.name, pattern: patternIndex }, 'legacy-files: file without an order moved to the error folder');
      continue;
    }
    parsed.push({ ready, hash, report, order: order.key, at: order.time ?? now });
  }

  parsed.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : compareNames(a.ready.file, b.ready.file)));
  for (const file of parsed) {
    const name = file.ready.file.name;
    const skus = [...new Set([...file.report.rows.map((row) => row.sku), ...file.report.problems.flatMap((p) => (p.sku === undefined ? [] : [p.sku]))])];
    const existing = await memory.records(skus);
    const merged = mergeReport<V, S>({ name, order: file.order, at: file.at }, file.report, existing, reading.combine, reading.describePart);
    const newSkus = [...merged.records.keys()].filter((sku) => !existing.has(sku));
    await memory.commitFile(file.hash, { name, order: file.order, appliedAt: new Date().toISOString() }, merged.records, merged.changedSkus, newSkus);
    await archive(session, file.ready, file.hash);
    result.applied.push(name);
    result.rejected.push(...merged.fileRejections);
    logger.info(
      { connector: connectorId, file: name, entity: reading.entity, rows: merged.applied, skusChanged: merged.changedSkus.length, staleParts: merged.stale, badLines: file.report.problems.length },
      'legacy-files: file applied and archived',
    );
  }
  return result;
}

/** Files whose order the name or time gives, in that order; the others (order from content) after them, by name. */
function byPreliminaryOrder(ready: ReadyFile[], utcOffset: string): ReadyFile[] {
  const keyed = ready.map((file) => {
    const order = file.pattern.order.from === 'content' ? undefined : fileOrder(file.file, file.pattern.order, file.patternIndex, utcOffset, undefined);
    return { file, key: order?.ok ? order.key : undefined };
  });
  return keyed
    .sort((a, b) => {
      if (a.key !== undefined && b.key !== undefined && a.key !== b.key) return a.key < b.key ? -1 : 1;
      if ((a.key === undefined) !== (b.key === undefined)) return a.key === undefined ? 1 : -1;
      return compareNames(a.file.file, b.file.file);
    })
    .map((entry) => entry.file);
}

function compareNames(a: ListedFile, b: ListedFile): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The name a file gets in the archive or error folder: its own, or with the first 12 hex digits
 * of its hash when a file of that name is there already (a sender reusing names); undefined when
 * that one exists too (the same content, handled before).
 */
async function freeName(session: SftpSession, folder: 'archive' | 'error', name: string, hash: string): Promise<string | undefined> {
  if (!(await session.exists(folder, name))) return name;
  const withHash = `${name}.${hash.slice(0, 12)}`;
  return (await session.exists(folder, withHash)) ? undefined : withHash;
}

async function archive(session: SftpSession, ready: ReadyFile, hash: string): Promise<void> {
  const target = await freeName(session, 'archive', ready.file.name, hash);
  if (target === undefined) await session.remove('inbox', ready.file.name);
  else await session.move('inbox', ready.file.name, 'archive', target);
  if (ready.marker !== undefined) await session.remove('inbox', ready.marker);
}

async function moveToErrors(session: SftpSession, ready: ReadyFile, hash: string, reason: string): Promise<void> {
  const target = (await freeName(session, 'error', ready.file.name, hash)) ?? `${ready.file.name}.${hash.slice(0, 12)}`;
  const text = [`${ready.file.name}: ${reason}`, `sha256: ${hash}`, `moved from the inbox: ${new Date().toISOString()}`, ''].join('\n');
  // The reason first: a file in the error folder always has its reason beside it.
  await session.writeAtomically('error', `${target}.reason.txt`, Buffer.from(text, 'utf8'));
  if (target === ready.file.name || !(await session.exists('error', target))) await session.move('inbox', ready.file.name, 'error', target);
  else await session.remove('inbox', ready.file.name);
  if (ready.marker !== undefined) await session.remove('inbox', ready.marker);
}
