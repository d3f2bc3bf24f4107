/**
 * The legacy-files connector against a real OpenSSH server (test/support/sftp-server.ts): files
 * dropped in the inbox as senders drop them, read through `stock.read` and `price.read`.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectorInstance, PricePage, StockPage, StockReadMode } from '../../connectors/contract';
import { legacyFilesManifest, LegacyFilesConfig } from '../../connectors/legacy-files';
import { OmnisyncError } from '../../core/errors';
import type { CrosswalkStore } from '../../core/model';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';
import { startSftpTestServer, type SftpTestServer } from '../support/sftp-server';

const FIXTURES = join(__dirname, '..', 'fixtures', 'legacy-files');

/** The state store's crosswalk, in memory: a key-value table per connector and kind. */
function memoryCrosswalk(): CrosswalkStore & { size(): number } {
  const table = new Map<string, string>();
  return {
    async get(kind, keys) {
      const found = new Map<string, string>();
      for (const key of keys) {
        const value = table.get(`${kind}\u0000${key}`);
        if (value !== undefined) found.set(key, value);
      }
      return found;
    },
    async put(kind, entries) {
      for (const [key, value] of entries) table.set(`${kind}\u0000${key}`, value);
    },
    size: () => table.size,
  };
}

const STOCK_CSV = {
  match: 'stany_*.csv',
  entity: 'stock',
  order: { from: 'name', pattern: '^stany_(?<timestamp>\\d{8}_\\d{6})', timestampFormat: 'yyyyMMdd_HHmmss' },
  format: { type: 'csv', encoding: 'windows-1250', delimiter: ';', decimalSeparator: ',', columns: { sku: 'indeks', location: 'magazyn', quantity: 'ilość' } },
};
const STOCK_UTF8_CSV = {
  match: 'utf8_*.csv',
  entity: 'stock',
  order: { from: 'name', pattern: '^utf8_(?<timestamp>\\d{14})' },
  format: { type: 'csv', encoding: 'utf-8', delimiter: ',', columns: { sku: 'sku', quantity: 'qty' } },
  location: 'SKLEP-1',
};
const INVRPT = { match: 'invrpt_*.edi', entity: 'stock', order: { from: 'content' }, format: { type: 'edifact' } };
// Price files are ordered by sequence number: both price patterns must order by the same kind.
const PRICAT = { match: 'pricat_*.edi', entity: 'price', order: { from: 'name', pattern: '^pricat_(?<sequence>\\d+)\\.edi$' }, format: { type: 'edifact' }, priceList: 'DETAL' };
const PRICE_CSV = {
  match: 'ceny_*.csv',
  entity: 'price',
  order: { from: 'name', pattern: '^ceny_(?<sequence>\\d+)\\.csv$' },
  format: { type: 'csv', encoding: 'utf-8', decimalSeparator: ',', columns: { sku: 'indeks', priceList: 'cennik', gross: 'brutto', vatRate: 'vat', validFrom: 'od' } },
  currency: 'PLN',
};

describe('legacy-files over SFTP', () => {
  let server: SftpTestServer;
  let folders: { inbox: string; archive: string; error: string };
  let crosswalk: ReturnType<typeof memoryCrosswalk>;
  let connector: ConnectorInstance;
  let run = 0;

  beforeAll(async () => {
    server = await startSftpTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  function configFor(overrides: Record<string, unknown> = {}) {
    return LegacyFilesConfig.parse({
      sftp: { host: server.host, port: server.port, username: server.username, privateKey: server.privateKey, hostKey: server.hostKeyFingerprint },
      folders,
      utcOffset: '+02:00',
      files: [STOCK_CSV, STOCK_UTF8_CSV, INVRPT, PRICAT, PRICE_CSV],
      ...overrides,
    });
  }

  function create(overrides: Record<string, unknown> = {}): ConnectorInstance {
    return legacyFilesManifest.create('erp-files', configFor(overrides), { logger: pino({ level: 'silent' }), crosswalk, baseDir: '/' });
  }

  beforeEach(async () => {
    run += 1;
    folders = { inbox: await server.folder(`r${run}/in`), archive: await server.folder(`r${run}/archive`), error: await server.folder(`r${run}/error`) };
    crosswalk = memoryCrosswalk();
    connector = create();
  });
  afterEach(async () => {
    await connector.close();
  });

  /** Drops a file as a sender does: content first, then its done-marker (unless told not to). */
  async function drop(name: string, content: Buffer | string, options: { marker?: boolean } = {}): Promise<void> {
    await writeFile(join(folders.inbox, name), content);
    if (options.marker ?? true) await writeFile(join(folders.inbox, `${name}.done`), '');
  }

  const readStock = (mode: StockReadMode = 'delta', cursor: unknown = null, limit = 1000, instance = connector): Promise<StockPage> =>
    instance.operations['stock.read']!.readStockPage({ mode, cursor: cursor as StockPage['nextCursor'], limit });
  const readPrices = (mode: StockReadMode = 'full', cursor: unknown = null, limit = 1000): Promise<PricePage> =>
    connector.operations['price.read']!.readPricePage({ mode, cursor, limit });
  const levelsOf = (page: StockPage) => page.levels.map((l) => `${l.sku}@${l.location}=${l.onHand}`).sort();
  const filesIn = async (folder: string) => (await readdir(folder)).sort();

  it('reads a windows-1250 CSV with decimal commas and Polish locations, and archives it after reading it', async () => {
    await drop('stany_20250601_120000.csv', await readFile(join(FIXTURES, 'stany_20250601_120000.csv')));
    const page = await readStock('full');
    // Exact, in the file's unit: the stock mapping rounds (core/quantity.ts).
    expect(levelsOf(page)).toEqual(['PL-000001@Łódź=12.5', 'PL-000002@Łódź=1234', 'PL-000003@Łódź=0']);
    expect(page.skus).toEqual(['PL-000001', 'PL-000002', 'PL-000003']);
    expect(page.rejected).toEqual([]);
    // The file's timestamp (local time at +02:00) is the levels' time.
    expect(page.levels[0]!.at).toBe('2025-06-01T10:00:00.000Z');
    expect(page.nextCursor).toBeNull();
    expect(await filesIn(folders.inbox)).toEqual([]);
    expect(await filesIn(folders.archive)).toEqual(['stany_20250601_120000.csv']);
  });

  it('skips a UTF-8 byte order mark, and sends a UTF-8 file declared windows-1250 to the error folder with its reason', async () => {
    await drop('utf8_20250601120000.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('sku,qty\nPL-000009,4\n')]));
    await drop('stany_20250601_130000.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('indeks;magazyn;ilość\nPL-1;Łódź;1\n')]));
    const page = await readStock('full');
    expect(levelsOf(page)).toEqual(['PL-000009@SKLEP-1=4']);
    expect(await filesIn(folders.error)).toEqual(['stany_20250601_130000.csv', 'stany_20250601_130000.csv.reason.txt']);
    expect(await readFile(join(folders.error, 'stany_20250601_130000.csv.reason.txt'), 'utf8')).toMatch(
      /^stany_20250601_130000\.csv: cannot be read as files\[0\] \(stany_\*\.csv, csv\): starts with a UTF-8 byte order mark, but the file pattern says windows-1250\nsha256: [0-9a-f]{64}\n/,
    );
    expect(await filesIn(folders.inbox)).toEqual([]);
    expect(await filesIn(folders.archive)).toEqual(['utf8_20250601120000.csv']);
  });

  it('sends a file that is not its format (a header without the configured columns) to the error folder', async () => {
    await drop('utf8_20250601120000.csv', 'code,amount\nPL-1,4\n');
    const page = await readStock('full');
    expect(page.levels).toEqual([]);
    expect(await readFile(join(folders.error, 'utf8_20250601120000.csv.reason.txt'), 'utf8')).toContain(
      'has no column "sku" (format.columns.sku), "qty" (format.columns.quantity) in its header "code,amount" (delimiter ",")',
    );
  });

  it('ignores a half-written file until its marker appears', async () => {
    await drop('utf8_20250601120000.csv', 'sku,qty\nPL-1,4\nPL-2,', { marker: false });
    expect((await readStock('full')).levels).toEqual([]);
    expect(await filesIn(folders.inbox)).toEqual(['utf8_20250601120000.csv']);
    await writeFile(join(folders.inbox, 'utf8_20250601120000.csv'), 'sku,qty\nPL-1,4\nPL-2,5\n');
    await writeFile(join(folders.inbox, 'utf8_20250601120000.csv.done'), '');
    expect(levelsOf(await readStock('full'))).toEqual(['PL-1@SKLEP-1=4', 'PL-2@SKLEP-1=5']);
    expect(await filesIn(folders.inbox)).toEqual([]);
  });

  it('with readyWhen stable-name, reads a file only once it is renamed from its temporary name', async () => {
    await connector.close();
    connector = create({ readyWhen: { mode: 'stable-name' } });
    await writeFile(join(folders.inbox, 'utf8_20250601120000.csv.part'), 'sku,qty\nPL-1,4\n');
    expect((await readStock('full')).levels).toEqual([]);
    await writeFile(join(folders.inbox, 'utf8_20250601120000.csv'), 'sku,qty\nPL-1,4\n');
    expect(levelsOf(await readStock('full'))).toEqual(['PL-1@SKLEP-1=4']);
  });

  it('applies a file delivered twice once: the repeat is archived without changing anything', async () => {
    await drop('utf8_20250601120000.csv', 'sku,qty\nPL-1,4\n');
    const first = await readStock('delta');
    expect(levelsOf(first)).toEqual(['PL-1@SKLEP-1=4']);
    // A newer file changes PL-1; then the old content arrives again under another name.
    await drop('utf8_20250601130000.csv', 'sku,qty\nPL-1,9\n');
    const second = await readStock('delta', first.resumeCursor);
    expect(levelsOf(second)).toEqual(['PL-1@SKLEP-1=9']);
    await drop('utf8_20250601140000.csv', 'sku,qty\nPL-1,4\n');
    const third = await readStock('delta', second.resumeCursor);
    expect(third.levels).toEqual([]);
    expect(third.resumeCursor).toBeNull();
    expect(levelsOf(await readStock('full'))).toEqual(['PL-1@SKLEP-1=9']);
    expect(await filesIn(folders.archive)).toEqual(['utf8_20250601120000.csv', 'utf8_20250601130000.csv', 'utf8_20250601140000.csv']);
  });

  it('never lets an older file arriving late overwrite newer data of a SKU and location', async () => {
    await drop('utf8_20250601140000.csv', 'sku,qty\nPL-1,14\n');
    await readStock('delta');
    // Older, arriving late: PL-1 keeps the newer 14, PL-2 (only in the old file) is applied.
    await drop('utf8_20250601120000.csv', 'sku,qty\nPL-1,12\nPL-2,2\n');
    const page = await readStock('full');
    expect(levelsOf(page)).toEqual(['PL-1@SKLEP-1=14', 'PL-2@SKLEP-1=2']);
    expect(page.levels.find((l) => l.sku === 'PL-1')!.at).toBe('2025-06-01T12:00:00.000Z');
  });

  it('applies files found together in their own order, not in the order of their names', async () => {
    await drop('utf8_20250601140000.csv', 'sku,qty\nPL-1,14\n');
    await drop('utf8_20250601120000.csv', 'sku,qty\nPL-1,12\n');
    expect(levelsOf(await readStock('full'))).toEqual(['PL-1@SKLEP-1=14']);
  });

  it('quarantines a broken line with its file name, line number and reason, and applies the rest', async () => {
    await drop('utf8_20250601120000.csv', 'sku,qty\nPL-1,4\nPL-2,abc\nPL-3,"7\nPL-4,1\n');
    const page = await readStock('full');
    expect(levelsOf(page)).toEqual(['PL-1@SKLEP-1=4', 'PL-4@SKLEP-1=1']);
    expect(page.rejected.map((r) => [r.reason, r.category, r.subject]).sort()).toEqual([
      ['utf8_20250601120000.csv line 3: column "qty" is not a number ("abc")', QUARANTINE_CATEGORY.invalidSourceRow, 'PL-2'],
      ['utf8_20250601120000.csv line 4: is not CSV: a quote (") is not closed', QUARANTINE_CATEGORY.invalidSourceRow, ''],
    ]);
    expect(page.rejected.find((r) => r.subject === 'PL-2')!.payload).toEqual({ file: 'utf8_20250601120000.csv', where: 'line 3', fields: { sku: 'PL-2', qty: 'abc' } });
    expect(await filesIn(folders.archive)).toEqual(['utf8_20250601120000.csv']);
    // PL-2 stays out of pages (its rejection stands) until a newer file reports it cleanly.
    expect((await readStock('full')).rejected.map((r) => r.subject)).toEqual(['PL-2']);
    await drop('utf8_20250601130000.csv', 'sku,qty\nPL-2,5\n');
    const fixed = await readStock('full');
    expect(fixed.rejected).toEqual([]);
    expect(levelsOf(fixed)).toEqual(['PL-1@SKLEP-1=4', 'PL-2@SKLEP-1=5', 'PL-4@SKLEP-1=1']);
  });

  it('rejects a SKU listed twice at one location in one file, and keeps its earlier level', async () => {
    await drop('utf8_20250601120000.csv', 'sku,qty\nPL-1,4\n');
    await readStock('full');
    await drop('utf8_20250601130000.csv', 'sku,qty\nPL-1,5\nPL-1,6\n');
    const page = await readStock('full');
    expect(page.skus).toEqual([]);
    expect(page.rejected.map((r) => [r.reason, r.category])).toEqual([
      ['utf8_20250601130000.csv line 2: SKU PL-1 at location SKLEP-1 is listed 2 times (line 2, line 3): the rows contradict each other', QUARANTINE_CATEGORY.duplicateKey],
      ['utf8_20250601130000.csv line 3: SKU PL-1 at location SKLEP-1 is listed 2 times (line 2, line 3): the rows contradict each other', QUARANTINE_CATEGORY.duplicateKey],
    ]);
  });

  it('reads an EDIFACT INVRPT: PIA SKUs, QTY+145 quantities, LOC of the message or after the quantity, ordered by its DTM+137', async () => {
    await drop('invrpt_42.edi', await readFile(join(FIXTURES, 'invrpt_42.edi')));
    const page = await readStock('full');
    expect(levelsOf(page)).toEqual(['PL-000001@MAG-WAW=7', 'PL-000002@MAG-KRK=3.5', 'PL-000003@MAG-WAW=11']);
    expect(page.levels[0]!.at).toBe('2025-06-01T11:00:00.000Z');
    // An older report of the same location (by its DTM) changes nothing.
    const older = (await readFile(join(FIXTURES, 'invrpt_42.edi'), 'latin1')).replace('202506011300', '202506010800').replace("QTY+145:7'", "QTY+145:1'");
    await drop('invrpt_43.edi', older);
    expect(levelsOf(await readStock('full'))).toEqual(['PL-000001@MAG-WAW=7', 'PL-000002@MAG-KRK=3.5', 'PL-000003@MAG-WAW=11']);
  });

  it('quarantines a malformed EDIFACT segment by its number and sends an ORDERS message to the error folder', async () => {
    const broken = (await readFile(join(FIXTURES, 'invrpt_42.edi'), 'latin1')).replace("QTY+145:11'", "QTY+145:elf'");
    await drop('invrpt_44.edi', broken);
    await drop('invrpt_45.edi', "UNB+UNOC:3+ERP+OMNISYNC+250601:1300+45'UNH+1+ORDERS:D:96A:UN'BGM+220+1+9'UNT+3+1'UNZ+1+45'");
    const page = await readStock('full');
    expect(levelsOf(page)).toEqual(['PL-000001@MAG-WAW=7', 'PL-000002@MAG-KRK=3.5']);
    expect(page.rejected.map((r) => r.reason)).toEqual(['invrpt_44.edi segment 15: QTY+145 is not a number ("elf")']);
    expect(await readFile(join(folders.error, 'invrpt_45.edi.reason.txt'), 'utf8')).toContain('invrpt_45.edi: cannot be read as files[2] (invrpt_*.edi, edifact): holds an EDIFACT ORDERS message at segment 2, not INVRPT');
  });

  it('reads EDIFACT PRICAT prices: net or gross, currency and VAT of the message or the item, validity', async () => {
    await drop('pricat_43.edi', await readFile(join(FIXTURES, 'pricat_43.edi')));
    const page = await readPrices('full');
    expect(page.rejected).toEqual([]);
    expect(page.entries).toEqual([
      { sku: 'PL-000001', priceList: 'DETAL', currency: 'PLN', vatRate: '23', net: '100.00' },
      { sku: 'PL-000002', priceList: 'DETAL', currency: 'PLN', vatRate: '23', gross: '49.99', validFrom: '2025-05-31T22:00:00.000Z', validTo: '2025-06-30T22:00:00.000Z' },
      { sku: 'PL-000003', priceList: 'DETAL', currency: 'PLN', vatRate: '8', net: '10.00' },
    ]);
    expect(await filesIn(folders.archive)).toEqual(['pricat_43.edi']);
  });

  it('reads CSV prices by sequence number: a file replaces the entries of the lists it reports, an older one is ignored', async () => {
    await drop('ceny_2.csv', 'indeks;cennik;brutto;vat;od\nPL-1;DETAL;12,30;23;\nPL-1;PROMO;9,99;23;2025-06-01\nPL-2;DETAL;5;8;\n');
    expect((await readPrices('full', null, 1000)).entries).toEqual([
      { sku: 'PL-1', priceList: 'DETAL', currency: 'PLN', vatRate: '23', gross: '12.30' },
      { sku: 'PL-1', priceList: 'PROMO', currency: 'PLN', vatRate: '23', gross: '9.99', validFrom: '2025-05-31T22:00:00.000Z' },
      { sku: 'PL-2', priceList: 'DETAL', currency: 'PLN', vatRate: '8', gross: '5.00' },
    ]);
    await drop('ceny_1.csv', 'indeks;cennik;brutto;vat;od\nPL-1;DETAL;1;23;\n');
    await drop('ceny_3.csv', 'indeks;cennik;brutto;vat;od\nPL-1;DETAL;13;23;\n');
    const page = await readPrices('full', null, 1000);
    expect(page.entries.filter((e) => e.sku === 'PL-1').map((e) => `${e.priceList}=${e.gross}`)).toEqual(['DETAL=13.00', 'PROMO=9.99']);
    // Only the lists a sync asks for.
    const lists = await connector.operations['price.read']!.readPricePage({ mode: 'full', cursor: null, limit: 1000, priceLists: ['PROMO'] });
    expect(lists.entries.map((e) => `${e.sku}:${e.priceList}`)).toEqual(['PL-1:PROMO']);
  });

  it('pages full reads through every SKU once and delta reads through the SKUs changed after the cursor', async () => {
    const rows = Array.from({ length: 1_200 }, (_, i) => `PL-${String(i + 1).padStart(4, '0')},${i}`);
    await drop('utf8_20250601120000.csv', `sku,qty\n${rows.join('\n')}\n`);
    const seen: string[] = [];
    let cursor: unknown = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await readStock('full', cursor, 500);
      seen.push(...page.skus);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen.length).toBe(1_200);
    expect(new Set(seen).size).toBe(1_200);
    // The connector's pageSize (default 1000) caps what a sync asks for.
    const firstDelta = await readStock('delta', null, 2_000);
    expect(firstDelta.skus.length).toBe(1_000);
    const delta = await readStock('delta', firstDelta.nextCursor, 2_000);
    expect(delta.skus.length).toBe(200);
    expect(delta.nextCursor).toBeNull();
    await drop('utf8_20250601130000.csv', 'sku,qty\nPL-0007,70\n');
    const next = await readStock('delta', delta.resumeCursor, 500);
    expect(levelsOf(next)).toEqual(['PL-0007@SKLEP-1=70']);
    // 1,200 SKUs fill chunks of 500 to 500, 500 and 200; the change is the 201st of the third.
    expect(next.resumeCursor).toEqual({ strategy: 'files', list: 'changes', chunk: 3, offset: 201 });
    await expect(readStock('full', next.resumeCursor)).rejects.toThrow('legacy-files: a full read resumes from a cursor of the "known" list, got one of the "changes" list');
  });

  it('keeps every location of a SKU when its locations come in files of their own', async () => {
    await drop('utf8_20250601120000.csv', 'sku,qty\nPL-1,4\n');
    await drop('invrpt_42.edi', (await readFile(join(FIXTURES, 'invrpt_42.edi'), 'latin1')).replace('PL-000001', 'PL-1'));
    const first = await readStock('delta');
    expect(levelsOf(first).filter((level) => level.startsWith('PL-1@'))).toEqual(['PL-1@MAG-WAW=7', 'PL-1@SKLEP-1=4']);
    await drop('utf8_20250601160000.csv', 'sku,qty\nPL-1,5\n');
    const page = await readStock('delta', first.resumeCursor);
    expect(levelsOf(page)).toEqual(['PL-1@MAG-WAW=7', 'PL-1@SKLEP-1=5']);
  });

  it('refuses a server whose host key is not the pinned one, naming both fingerprints', async () => {
    await connector.close();
    const pinned = 'SHA256:' + 'A'.repeat(43);
    connector = create({ sftp: { host: server.host, port: server.port, username: server.username, privateKey: server.privateKey, hostKey: pinned } });
    const error = await readStock('full').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OmnisyncError);
    expect((error as OmnisyncError).kind).toBe('config');
    expect((error as OmnisyncError).message).toBe(
      `legacy-files: the SFTP server 127.0.0.1:${server.port} presented host key ${server.hostKeyFingerprint}, but sftp.hostKey is ${pinned}: refusing to connect ` +
        `(if the server's key was replaced on purpose, pin the new one: ssh-keyscan -p ${server.port} 127.0.0.1 | ssh-keygen -lf -)`,
    );
    await expect(connector.check()).rejects.toThrow(/presented host key/);
  });

  it('reports refused credentials as an auth error and a refused connection as transient', async () => {
    await connector.close();
    const wrongKey = { host: server.host, port: server.port, username: 'nobody-here', privateKey: server.privateKey, hostKey: server.hostKeyFingerprint };
    connector = create({ sftp: wrongKey });
    const auth = (await readStock('full').catch((err: unknown) => err)) as OmnisyncError;
    expect([auth.kind, auth.message]).toEqual(['auth', `legacy-files: the SFTP server 127.0.0.1:${server.port} refused user "nobody-here" with sftp.privateKey`]);
    await connector.close();
    connector = create({ sftp: { ...wrongKey, username: server.username, port: 1 } });
    const refused = (await readStock('full').catch((err: unknown) => err)) as OmnisyncError;
    expect(refused.kind).toBe('transient');
    expect(refused.retryable).toBe(true);
    expect(refused.message).toMatch(/^legacy-files: cannot reach the SFTP server 127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it('checks the connection, the host key and the folders', async () => {
    await drop('utf8_20250601120000.csv', 'sku,qty\nPL-1,4\n');
    expect(await connector.check()).toEqual({
      ok: true,
      detail: `connected to 127.0.0.1:${server.port} as ${server.username} (host key ${server.hostKeyFingerprint} matches); inbox "${folders.inbox}": 2 files, 1 stock and 0 price files ready; inbox, archive and error folders writable`,
    });
    await connector.close();
    connector = create({ folders: { ...folders, archive: `${folders.archive}-missing` } });
    await expect(connector.check()).rejects.toThrow(`legacy-files: folders.archive "${folders.archive}-missing" does not exist on the SFTP server 127.0.0.1:${server.port}`);
  });
});
