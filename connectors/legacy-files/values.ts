/**
 * Reading values out of files, pure: text in a declared encoding, decimals with a decimal comma,
 * times without a zone, and the order of a file (its time or sequence number) as a key that
 * compares as text.
 */
import iconv from 'iconv-lite';
import type { TextEncoding } from './config';

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

export type Decoded = { ok: true; text: string } | { ok: false; reason: string };

/**
 * The text of a file in `encoding`. A UTF-8 byte order mark is skipped. Refused: bytes that are
 * not valid in the encoding, and a file declared in a single-byte encoding whose bytes are
 * UTF-8 (a BOM, or multi-byte sequences and nothing else): read as windows-1250, "Łódź" in UTF-8
 * would become "ĹĂłdĹş" in every channel, so such a file goes to the error folder instead.
 */
export function decodeText(bytes: Buffer, encoding: TextEncoding | 'iso-8859-1'): Decoded {
  const hasBom = bytes.length >= 3 && UTF8_BOM.every((byte, i) => bytes[i] === byte);
  if (encoding === 'utf-8') {
    const body = hasBom ? bytes.subarray(3) : bytes;
    const scan = scanUtf8(body);
    if (scan.invalidAt >= 0) return { ok: false, reason: `not valid UTF-8 (byte 0x${body[scan.invalidAt]!.toString(16)} at offset ${scan.invalidAt + (hasBom ? 3 : 0)})` };
    return { ok: true, text: body.toString('utf8') };
  }
  if (hasBom) return { ok: false, reason: `starts with a UTF-8 byte order mark, but the file pattern says ${encoding}` };
  const scan = scanUtf8(bytes);
  if (scan.invalidAt < 0 && scan.multiByte) return { ok: false, reason: `holds UTF-8 multi-byte characters, but the file pattern says ${encoding}` };
  const text = iconv.decode(bytes, encoding);
  // Single-byte encodings: one character per byte, so the offset of a replacement is the byte's.
  const bad = text.indexOf('\uFFFD');
  if (bad >= 0) return { ok: false, reason: `byte 0x${(bytes[bad] ?? 0).toString(16)} at offset ${bad} is not a character in ${encoding}` };
  return { ok: true, text };
}

/** Where UTF-8 decoding of `bytes` fails (-1: nowhere), and whether they hold a multi-byte sequence. */
function scanUtf8(bytes: Buffer): { invalidAt: number; multiByte: boolean } {
  let multiByte = false;
  for (let i = 0; i < bytes.length; ) {
    const byte = bytes[i]!;
    const length = byte < 0x80 ? 1 : byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return { invalidAt: i, multiByte };
    for (let k = 1; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return { invalidAt: i, multiByte };
    if (length > 1) multiByte = true;
    i += length;
  }
  return { invalidAt: -1, multiByte };
}

/**
 * A decimal as canonical text ("12.5", "-3"), or undefined. With a decimal comma, "1 234,50"
 * is "1234.50" (spaces and no-break spaces as thousands separators); a point is then refused,
 * since "1.234" would be ambiguous.
 */
export function decimalText(raw: string, decimalSeparator: ',' | '.'): string | undefined {
  let text = raw.trim().replace(/[\s\u00a0\u202f]/g, '');
  if (decimalSeparator === ',') {
    if (text.includes('.')) return undefined;
    text = text.replace(',', '.');
  }
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text) ? text.replace(/^\+/, '') : undefined;
}

/** Times as files write them: `2025-06-01`, `2025-06-01 08:00[:00]`, `2025-06-01T08:00:00+02:00`, `01.06.2025[ 08:00]`. */
const ISO_LIKE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;
const DOTTED = /^(\d{2})\.(\d{2})\.(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * A time written in a file as ISO-8601 UTC with milliseconds, or undefined when it is none.
 * Times without a zone are read at `utcOffset` (config `utcOffset`).
 */
export function fileTime(raw: string, utcOffset: string): string | undefined {
  const text = raw.trim();
  let parts: { y: string; mo: string; d: string; h?: string; mi?: string; s?: string; zone?: string } | undefined;
  const iso = ISO_LIKE.exec(text);
  if (iso) parts = { y: iso[1]!, mo: iso[2]!, d: iso[3]!, h: iso[4], mi: iso[5], s: iso[6], zone: iso[7] };
  const dotted = DOTTED.exec(text);
  if (dotted) parts = { y: dotted[3]!, mo: dotted[2]!, d: dotted[1]!, h: dotted[4], mi: dotted[5], s: dotted[6] };
  if (parts === undefined) return undefined;
  return timeFromParts(parts, parts.zone ?? utcOffset);
}

/** Reads a timestamp from a file name with a format of the tokens yyyy, yy, MM, dd, HH, mm, ss. */
export function timestampFromName(text: string, format: string, utcOffset: string): string | undefined {
  const fields: Record<string, string> = {};
  let rest = text;
  for (const token of format.match(/yyyy|yy|MM|dd|HH|mm|ss|./g) ?? []) {
    if (/^(yyyy|yy|MM|dd|HH|mm|ss)$/.test(token)) {
      const digits = rest.slice(0, token.length);
      if (!/^\d+$/.test(digits) || digits.length !== token.length) return undefined;
      fields[token] = digits;
      rest = rest.slice(token.length);
    } else {
      if (!rest.startsWith(token)) return undefined;
      rest = rest.slice(1);
    }
  }
  if (rest !== '') return undefined;
  const year = fields.yyyy ?? (fields.yy === undefined ? undefined : `20${fields.yy}`);
  if (year === undefined || fields.MM === undefined || fields.dd === undefined) return undefined;
  return timeFromParts({ y: year, mo: fields.MM, d: fields.dd, h: fields.HH, mi: fields.mm, s: fields.ss }, utcOffset);
}

function timeFromParts(parts: { y: string; mo: string; d: string; h?: string | undefined; mi?: string | undefined; s?: string | undefined }, zone: string): string | undefined {
  const [y, mo, d, h, mi, s] = [parts.y, parts.mo, parts.d, parts.h ?? '0', parts.mi ?? '0', parts.s ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(local);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined; // 31.02.
  return new Date(local - offsetMinutes(zone) * 60_000).toISOString();
}

/** "+02:00" → 120, "Z" → 0. */
function offsetMinutes(zone: string): number {
  if (zone === 'Z') return 0;
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

/**
 * A file's order as text that compares like the order itself: a time as ISO-8601 UTC (which
 * sorts as text), a sequence number left-padded to 20 digits. Per entity, every file pattern
 * orders by the same kind (the config refuses a mix), so keys of one memory always compare.
 */
export function orderKey(order: { kind: 'time'; time: string } | { kind: 'sequence'; sequence: string }): string {
  return order.kind === 'time' ? order.time : order.sequence.replace(/^0+(?=\d)/, '').padStart(20, '0');
}
