/**
 * Applying one file's report to what the connector remembers per SKU, pure.
 *
 * A file is an absolute report of the parts it lists (stock: a SKU's quantity at a location;
 * prices: a SKU's entries in a price list). Per SKU and part, the order (time or sequence) of
 * the data applied is kept: a file whose order is older than what a part holds does not change
 * that part (an older file arriving late never overwrites newer data); a file of the same or a
 * newer order replaces it.
 *
 * A line that cannot be read, or rows that contradict each other (a SKU listed twice at one
 * location), leave their part as it was and put a standing rejection on it: the SKU is left out
 * of pages (its availability or price would be computed from data the file says is wrong) and
 * its rejection is quarantined, until a file of the same or a newer order reports the part
 * cleanly. Lines naming no SKU and part, and bad lines older than the data a part holds, are
 * rejected once, by the read that applied the file.
 */
import type { RejectedRecord } from '../../core/model';
import { QUARANTINE_CATEGORY, type QuarantineCategory } from '../../core/quarantine-categories';
import type { FileReport, FileRow, LineProblem } from './report';

export interface PartState<S> {
  value: S;
  /** Order key of the file the value came from (values.ts orderKey). */
  order: string;
  /** ISO-8601 time of the data (stock levels' `at`). */
  at: string;
}

export interface StandingRejection {
  order: string;
  records: RejectedRecord[];
}

/** What the connector remembers of one SKU. */
export interface SkuRecord<S> {
  parts: Record<string, PartState<S>>;
  rejected: Record<string, StandingRejection>;
}

export interface AppliedFile {
  name: string;
  order: string;
  at: string;
}

export interface MergeResult<S> {
  /** The records that changed, whole. */
  records: Map<string, SkuRecord<S>>;
  /** SKUs whose record changed, in the order the file first names them. */
  changedSkus: string[];
  /** Rejections that stand on no SKU: quarantined once, by the read that applied the file. */
  fileRejections: RejectedRecord[];
  /** Parts not applied because newer data is known for them. */
  stale: number;
  /** Rows applied. */
  applied: number;
}

/**
 * Merges `report` (of `file`) into the SKUs' `existing` records. `combine` turns a part's rows
 * into the value kept (stock: the one row's quantities; prices: the list's entries).
 */
export function mergeReport<V, S>(file: AppliedFile, report: FileReport<V>, existing: ReadonlyMap<string, SkuRecord<S>>, combine: (rows: ReadonlyArray<FileRow<V>>) => S, describePart: (sku: string, part: string) => string): MergeResult<S> {
  const groups = new Map<string, { sku: string; part: string; rows: FileRow<V>[] }>();
  for (const row of report.rows) {
    const key = partKey(row.sku, row.part);
    const group = groups.get(key) ?? { sku: row.sku, part: row.part, rows: [] };
    group.rows.push(row);
    groups.set(key, group);
  }
  const problems = new Map<string, { sku: string; part: string; records: RejectedRecord[] }>();
  const fileRejections: RejectedRecord[] = [];
  const addProblem = (sku: string, part: string, record: RejectedRecord) => {
    const key = partKey(sku, part);
    const entry = problems.get(key) ?? { sku, part, records: [] };
    entry.records.push(record);
    problems.set(key, entry);
  };
  for (const problem of report.problems) {
    const record = rejectionOf(file.name, problem, QUARANTINE_CATEGORY.invalidSourceRow);
    if (problem.sku !== undefined && problem.part !== undefined) addProblem(problem.sku, problem.part, record);
    else fileRejections.push(record);
  }
  for (const [key, group] of groups) {
    const byDuplicateKey = new Map<string, FileRow<V>[]>();
    for (const row of group.rows) byDuplicateKey.set(row.duplicateKey, [...(byDuplicateKey.get(row.duplicateKey) ?? []), row]);
    const repeated = [...byDuplicateKey.values()].filter((rows) => rows.length > 1);
    if (repeated.length > 0) {
      const wheres = repeated.flat().map((row) => row.where);
      for (const row of repeated.flat()) {
        const reason = `${describePart(group.sku, group.part)} is listed ${wheres.length} times (${wheres.join(', ')}): the rows contradict each other`;
        addProblem(group.sku, group.part, rejectionOf(file.name, { where: row.where, reason, sku: row.sku, part: row.part, fields: { value: JSON.stringify(row.value) } }, QUARANTINE_CATEGORY.duplicateKey));
      }
    }
    // A part with any bad row is not applied: its other rows are not the whole report of it.
    if (problems.has(key)) groups.delete(key);
  }

  const records = new Map<string, SkuRecord<S>>();
  const changed: string[] = [];
  const recordOf = (sku: string): SkuRecord<S> => {
    let record = records.get(sku);
    if (record === undefined) {
      const before = existing.get(sku);
      record = before === undefined ? { parts: {}, rejected: {} } : { parts: { ...before.parts }, rejected: { ...before.rejected } };
      records.set(sku, record);
    }
    return record;
  };
  const touched = new Set<string>();
  const markChanged = (sku: string) => {
    if (!touched.has(sku)) changed.push(sku);
    touched.add(sku);
  };
  let stale = 0;
  let applied = 0;
  for (const group of groups.values()) {
    const current = existing.get(group.sku)?.parts[group.part];
    if (current !== undefined && current.order > file.order) {
      stale += 1;
      continue;
    }
    const record = recordOf(group.sku);
    record.parts[group.part] = { value: combine(group.rows), order: file.order, at: file.at };
    const standing = record.rejected[group.part];
    if (standing !== undefined && standing.order <= file.order) delete record.rejected[group.part];
    applied += group.rows.length;
    markChanged(group.sku);
  }
  for (const problem of problems.values()) {
    const current = existing.get(problem.sku)?.parts[problem.part];
    if (current !== undefined && current.order > file.order) {
      // Newer data stands for this part: the bad line changes nothing, it is only reported.
      fileRejections.push(...problem.records);
      continue;
    }
    recordOf(problem.sku).rejected[problem.part] = { order: file.order, records: problem.records };
    markChanged(problem.sku);
  }
  // Only records that changed are written back.
  for (const sku of records.keys()) if (!touched.has(sku)) records.delete(sku);
  return { records, changedSkus: changed, fileRejections, stale, applied };
}

/** A line's rejection: keyed and worded by file name and line (or segment), never by its content. */
export function rejectionOf(fileName: string, problem: LineProblem, category: QuarantineCategory): RejectedRecord {
  return {
    recordKey: `${fileName} ${problem.where}`,
    reason: `${fileName} ${problem.where}: ${problem.reason}`,
    category,
    subject: problem.sku ?? '',
    payload: { file: fileName, where: problem.where, fields: problem.fields },
  };
}

function partKey(sku: string, part: string): string {
  return `${sku}\u0000${part}`;
}
