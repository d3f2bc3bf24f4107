/**
 * Which files of an inbox listing are complete and whose they are, and a file's order from its
 * name. Pure.
 */
import type { FileEntity, FileOrder, FilePattern, LegacyFilesConfig } from './config';
import { orderKind } from './config';
import { orderKey, timestampFromName } from './values';

export interface ListedFile {
  name: string;
  size: number;
  /** Modification time on the server, ms since the epoch. */
  modifiedAt: number;
}

export interface ReadyFile {
  file: ListedFile;
  pattern: FilePattern;
  /** Index of the pattern in config `files`, for messages. */
  patternIndex: number;
  /** The marker file to remove once the file is handled (readyWhen marker). */
  marker?: string;
}

/** A glob of `*` and `?` as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

/**
 * The complete files of `entity` in a listing, in name order. Names starting with a dot are
 * never read (editors' and uploaders' temporaries). readyWhen marker: a file counts once
 * `<name><suffix>` is listed beside it. stable-name: names with a temporary suffix are skipped.
 * A file matching no pattern, or another entity's pattern, is left alone.
 */
export function readyFiles(listing: readonly ListedFile[], config: Pick<LegacyFilesConfig, 'files' | 'readyWhen'>, entity: FileEntity): ReadyFile[] {
  const names = new Set(listing.map((file) => file.name));
  const globs = config.files.map((pattern) => globToRegExp(pattern.match));
  const ready: ReadyFile[] = [];
  for (const file of [...listing].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (file.name.startsWith('.')) continue;
    const { readyWhen } = config;
    if (readyWhen.mode === 'marker' && file.name.endsWith(readyWhen.suffix)) continue;
    if (readyWhen.mode === 'stable-name' && readyWhen.temporarySuffixes.some((suffix) => file.name.endsWith(suffix))) continue;
    const patternIndex = globs.findIndex((glob) => glob.test(file.name));
    const pattern = config.files[patternIndex];
    if (pattern === undefined || pattern.entity !== entity) continue;
    if (readyWhen.mode === 'marker') {
      const marker = `${file.name}${readyWhen.suffix}`;
      if (!names.has(marker)) continue;
      ready.push({ file, pattern, patternIndex, marker });
    } else {
      ready.push({ file, pattern, patternIndex });
    }
  }
  return ready;
}

export type FileOrderResult = { ok: true; key: string; time: string | undefined } | { ok: false; reason: string };

/**
 * A file's order key (values.ts orderKey) and its time when it has one, from its name or
 * modification time; `content` orders need the parsed file (`documentTime`).
 */
export function fileOrder(file: ListedFile, order: FileOrder, patternIndex: number, utcOffset: string, documentTime: string | undefined): FileOrderResult {
  switch (order.from) {
    case 'modifiedTime': {
      const time = new Date(file.modifiedAt).toISOString();
      return { ok: true, key: orderKey({ kind: 'time', time }), time };
    }
    case 'content':
      return documentTime === undefined
        ? { ok: false, reason: `has no document date (DTM+137 before the first LIN) nor a UNB date, which files[${patternIndex}].order (from: content) reads` }
        : { ok: true, key: orderKey({ kind: 'time', time: documentTime }), time: documentTime };
    case 'name': {
      const match = new RegExp(order.pattern).exec(file.name);
      const where = `files[${patternIndex}].order.pattern ${JSON.stringify(order.pattern)}`;
      if (orderKind(order) === 'sequence') {
        const sequence = match?.groups?.sequence;
        if (sequence === undefined || !/^\d+$/.test(sequence)) return { ok: false, reason: `its name does not carry a sequence number by ${where}` };
        return { ok: true, key: orderKey({ kind: 'sequence', sequence }), time: undefined };
      }
      const text = match?.groups?.timestamp;
      const time = text === undefined ? undefined : timestampFromName(text, order.timestampFormat, utcOffset);
      if (time === undefined) return { ok: false, reason: `its name does not carry a timestamp by ${where} and files[${patternIndex}].order.timestampFormat "${order.timestampFormat}"` };
      return { ok: true, key: orderKey({ kind: 'time', time }), time };
    }
  }
}
