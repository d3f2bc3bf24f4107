/**
 * The pure parts of the legacy-files connector: values in files, file names and order, and the
 * merge that keeps older data from overwriting newer.
 */
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { LegacyFilesConfig } from '../../connectors/legacy-files';
import { fileOrder, globToRegExp, readyFiles } from '../../connectors/legacy-files/file-names';
import { mergeReport, type SkuRecord } from '../../connectors/legacy-files/merge';
import type { StockReport, StockValue } from '../../connectors/legacy-files/report';
import { edifactTime } from '../../connectors/legacy-files/edifact-format';
import { decimalText, decodeText, fileTime, orderKey, timestampFromName } from '../../connectors/legacy-files/values';

describe('values in files', () => {
  it('reads decimals with a decimal comma and spaces as thousands separators, and refuses ambiguous ones', () => {
    expect(decimalText('1 234,50', ',')).toBe('1234.50');
    expect(decimalText('12,5', ',')).toBe('12.5');
    expect(decimalText('1.234,5', ',')).toBeUndefined();
    expect(decimalText('+7', '.')).toBe('7');
    expect(decimalText('abc', '.')).toBeUndefined();
  });

  it('decodes windows-1250 and refuses UTF-8 declared as windows-1250', () => {
    expect(decodeText(iconv.encode('Łódź', 'windows-1250'), 'windows-1250')).toEqual({ ok: true, text: 'Łódź' });
    expect(decodeText(Buffer.from('Łódź', 'utf8'), 'windows-1250')).toEqual({ ok: false, reason: 'holds UTF-8 multi-byte characters, but the file pattern says windows-1250' });
    expect(decodeText(Buffer.from([0xef, 0xbb, 0xbf, 0x41]), 'utf-8')).toEqual({ ok: true, text: 'A' });
    expect(decodeText(Buffer.from([0x41, 0xff]), 'utf-8')).toEqual({ ok: false, reason: 'not valid UTF-8 (byte 0xff at offset 1)' });
  });

  it('reads times without a zone at the configured offset', () => {
    expect(fileTime('2025-06-01', '+02:00')).toBe('2025-05-31T22:00:00.000Z');
    expect(fileTime('01.06.2025 08:30', 'Z')).toBe('2025-06-01T08:30:00.000Z');
    expect(fileTime('2025-06-01T08:00:00+01:00', '+02:00')).toBe('2025-06-01T07:00:00.000Z');
    expect(fileTime('31.02.2025', 'Z')).toBeUndefined();
    expect(timestampFromName('20250601_120000', 'yyyyMMdd_HHmmss', '+02:00')).toBe('2025-06-01T10:00:00.000Z');
    expect(timestampFromName('2025061', 'yyyyMMdd', 'Z')).toBeUndefined();
    expect(edifactTime('202506011300', '203', 'Z')).toBe('2025-06-01T13:00:00.000Z');
    expect(edifactTime('20250631', '102', 'Z')).toBeUndefined();
  });

  it('orders sequence numbers as numbers, not as text', () => {
    expect(orderKey({ kind: 'sequence', sequence: '9' }) < orderKey({ kind: 'sequence', sequence: '10' })).toBe(true);
    expect(orderKey({ kind: 'sequence', sequence: '007' })).toBe(orderKey({ kind: 'sequence', sequence: '7' }));
  });
});

describe('file names', () => {
  const config = LegacyFilesConfig.parse({
    sftp: { host: 'h', username: 'u', password: '${env:P}', hostKey: `SHA256:${'a'.repeat(43)}` },
    folders: { inbox: '/in', archive: '/archive', error: '/error' },
    files: [
      { match: 'st_*.csv', entity: 'stock', order: { from: 'name', pattern: '^st_(?<sequence>\\d+)' }, format: { type: 'csv', columns: { sku: 's', quantity: 'q' } }, location: 'L' },
      { match: 'pr_*.csv', entity: 'price', order: { from: 'modifiedTime' }, format: { type: 'csv', columns: { sku: 's', net: 'n' } } },
    ],
  });
  const listed = (name: string) => ({ name, size: 1, modifiedAt: 0 });

  it('matches globs whole', () => {
    expect(globToRegExp('st_*.csv').test('st_1.csv')).toBe(true);
    expect(globToRegExp('st_*.csv').test('st_1.csv.done')).toBe(false);
    expect(globToRegExp('a?.txt').test('ab.txt')).toBe(true);
  });

  it('keeps complete files of the entity: marked ones, never dot-names or other patterns', () => {
    const ready = readyFiles(['st_2.csv', 'st_1.csv', 'st_1.csv.done', '.st_3.csv', '.st_3.csv.done', 'pr_1.csv', 'pr_1.csv.done', 'other.csv'].map(listed), config, 'stock');
    expect(ready.map((file) => [file.file.name, file.marker])).toEqual([['st_1.csv', 'st_1.csv.done']]);
  });

  it('takes the order from the name and says which setting could not read it', () => {
    expect(fileOrder(listed('st_12.csv'), config.files[0]!.order, 0, 'Z', undefined)).toEqual({ ok: true, key: '00000000000000000012', time: undefined });
    expect(fileOrder(listed('st_x.csv'), config.files[0]!.order, 0, 'Z', undefined)).toEqual({ ok: false, reason: 'its name does not carry a sequence number by files[0].order.pattern "^st_(?<sequence>\\\\d+)"' });
  });

  it('refuses patterns of one entity ordered by times and by sequence numbers', () => {
    const mixed = LegacyFilesConfig.safeParse({
      ...config,
      files: [config.files[0], { ...config.files[0], match: 'x_*.csv', order: { from: 'modifiedTime' } }],
    });
    expect(mixed.success).toBe(false);
    expect(mixed.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['files.1.order', 'stock files are ordered by sequence at files.0.order, and by time here: times and sequence numbers cannot be compared, so all stock files need the same kind'],
    ]);
  });
});

describe('merging a file into what the connector remembers', () => {
  const combine = (rows: ReadonlyArray<{ value: StockValue }>) => rows[0]!.value;
  const describePart = (sku: string, part: string) => `SKU ${sku} at location ${part}`;
  const row = (sku: string, onHand: number, line: number) => ({ sku, part: 'L', value: { onHand, reserved: 0 }, where: `line ${line}`, duplicateKey: `${sku}|L` });

  it('applies newer and equal orders, keeps newer data against an older file, and lets a bad line stand until a clean newer report', () => {
    const existing = new Map<string, SkuRecord<StockValue>>([['A', { parts: { L: { value: { onHand: 5, reserved: 0 }, order: '2025-06-02', at: '2025-06-02' } }, rejected: {} }]]);
    const older: StockReport = { rows: [row('A', 1, 2), row('B', 2, 3)], problems: [{ where: 'line 4', reason: 'bad', sku: 'C', part: 'L', fields: {} }] };
    const merged = mergeReport({ name: 'f1', order: '2025-06-01', at: '2025-06-01' }, older, existing, combine, describePart);
    expect(merged.stale).toBe(1);
    expect(merged.changedSkus).toEqual(['B', 'C']);
    expect(merged.records.get('B')!.parts.L!.value.onHand).toBe(2);
    expect(merged.records.get('C')!.rejected.L!.records[0]!.reason).toBe('f1 line 4: bad');
    const fixed = mergeReport({ name: 'f2', order: '2025-06-01', at: '2025-06-01' }, { rows: [row('C', 3, 2)], problems: [] }, merged.records, combine, describePart);
    expect(fixed.records.get('C')).toEqual({ parts: { L: { value: { onHand: 3, reserved: 0 }, order: '2025-06-01', at: '2025-06-01' } }, rejected: {} });
  });

  it('reports a bad line older than the data its part holds once, without letting it stand', () => {
    const existing = new Map<string, SkuRecord<StockValue>>([['A', { parts: { L: { value: { onHand: 5, reserved: 0 }, order: '2', at: 't' } }, rejected: {} }]]);
    const merged = mergeReport({ name: 'old', order: '1', at: 't' }, { rows: [], problems: [{ where: 'line 2', reason: 'bad', sku: 'A', part: 'L', fields: {} }] }, existing, combine, describePart);
    expect(merged.records.size).toBe(0);
    expect(merged.fileRejections.map((r) => [r.recordKey, r.subject])).toEqual([['old line 2', 'A']]);
  });
});
