/**
 * The demo's partner warehouse (DEMO_PARTNER_WAREHOUSE, "Magazyn partnerski Poznań"), which has
 * no API: like many such partners it exports a CSV of its stock from an old Windows ERP
 * (windows-1250, semicolons, decimal commas, Polish headers) and drops it in the hub's SFTP
 * inbox, writing under a temporary dot-name, renaming it into place, then writing the
 * done-marker. A complete report on start, then every few minutes a report of the SKUs whose
 * quantities changed (each file is an absolute report of the SKUs it lists).
 *
 * Its quantities are kept in a small JSON file beside the drop, so a restart of `npm start`
 * goes on from what the partner last reported instead of starting over.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import iconv from 'iconv-lite';
import type { Logger } from 'pino';
import { DEMO_PARTNER_WAREHOUSE, demoProducts, seededRandom } from '../demo-catalog';

/** The header the partner's ERP writes; the demo config's `columns` name these. */
export const PARTNER_STOCK_COLUMNS = { sku: 'Indeks', name: 'Nazwa towaru', location: 'Magazyn', quantity: 'Ilość', reserved: 'Zarezerwowano' } as const;
/** SKUs the partner stocks: the first demo products (PL-000001…). */
export const PARTNER_SKU_COUNT = 300;
/** The marker the partner writes after a file (the connector's `readyWhen.suffix`). */
export const PARTNER_DONE_SUFFIX = '.done';
/** SKUs whose quantity changes between two reports. */
const CHANGES_PER_REPORT = 25;

/** `stany_MAG-POZ_20250601_120000.csv`: the time is UTC (the demo config reads it with utcOffset Z). */
export function partnerStockFileName(at: Date): string {
  const iso = at.toISOString(); // 2025-06-01T12:00:00.000Z
  return `stany_${DEMO_PARTNER_WAREHOUSE.code}_${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}.csv`;
}

export interface PartnerStockLine {
  sku: string;
  name: string;
  onHand: number;
  reserved: number;
}

/** The file as the partner writes it: windows-1250 bytes, CRLF line ends, quantities with three decimals and a comma. */
export function partnerStockCsv(lines: readonly PartnerStockLine[]): Buffer {
  const quantity = (value: number) => `${value},000`;
  const text = [
    [PARTNER_STOCK_COLUMNS.sku, PARTNER_STOCK_COLUMNS.name, PARTNER_STOCK_COLUMNS.location, PARTNER_STOCK_COLUMNS.quantity, PARTNER_STOCK_COLUMNS.reserved].join(';'),
    ...lines.map((line) => [line.sku, line.name, DEMO_PARTNER_WAREHOUSE.code, quantity(line.onHand), quantity(line.reserved)].join(';')),
    '',
  ].join('\r\n');
  return iconv.encode(text, 'windows-1250');
}

interface PartnerState {
  /** Reports written so far: seeds which SKUs change next. */
  reports: number;
  /** The last reported quantity per SKU. */
  stock: Record<string, { onHand: number; reserved: number }>;
}

export interface PartnerStockFeedOptions {
  /** The SFTP inbox on this machine (the drop root's inbox folder). */
  inbox: string;
  /** The JSON file the partner's quantities are kept in. */
  stateFile: string;
  /** SKUs the partner stocks (the first demo products). Default PARTNER_SKU_COUNT. */
  skuCount?: number;
  /** Time between reports of changed quantities. */
  intervalMs: number;
  logger: Logger;
  /** Clock. Default `() => new Date()`. */
  now?: () => Date;
}

export interface PartnerStockFeed {
  /** Writes one report now: the first is complete, later ones list the changed SKUs. Returns the file name. */
  deliver(): Promise<string>;
  /** Stops the timer and waits for a delivery in progress. */
  stop(): Promise<void>;
}

/** Delivers a complete report at once, then a report of changes every `intervalMs`. */
export async function startPartnerStockFeed(options: PartnerStockFeedOptions): Promise<PartnerStockFeed> {
  const now = options.now ?? (() => new Date());
  const products = demoProducts(options.skuCount ?? PARTNER_SKU_COUNT);
  let state = await loadState(options.stateFile, products.map((product) => product.sku));
  let complete = true;
  let lastFile = '';

  const deliver = async (): Promise<string> => {
    const random = seededRandom(0x504f5a + state.reports);
    const changed = complete ? products : pickChanged(products, random);
    const next: PartnerState = { reports: state.reports + 1, stock: { ...state.stock } };
    if (!complete) {
      for (const product of changed) {
        const onHand = Math.max(0, (next.stock[product.sku]?.onHand ?? 0) + Math.floor(random() * 21) - 10);
        next.stock[product.sku] = { onHand, reserved: Math.min(onHand, Math.floor(random() * 3)) };
      }
    }
    // A second apart at least: the file's name is its order, and two reports of one second would tie.
    let at = now();
    if (lastFile !== '' && partnerStockFileName(at) <= lastFile) at = new Date(at.getTime() + 1_000);
    const name = partnerStockFileName(at);
    const lines = changed.map((product) => ({ sku: product.sku, name: product.name, ...next.stock[product.sku]! }));
    await writeWhole(join(options.inbox, name), partnerStockCsv(lines));
    await writeFile(join(options.inbox, `${name}${PARTNER_DONE_SUFFIX}`), '');
    await saveState(options.stateFile, next);
    state = next;
    complete = false;
    lastFile = name;
    options.logger.info({ file: name, skus: lines.length }, 'sandbox partner warehouse delivered a stock file over SFTP');
    return name;
  };

  let delivering: Promise<unknown> = deliver();
  await delivering;
  const timer = setInterval(() => {
    delivering = deliver().catch((err: unknown) => options.logger.warn({ err }, 'sandbox partner warehouse could not deliver its stock file'));
  }, options.intervalMs);
  timer.unref();
  return {
    deliver() {
      const delivery = deliver();
      delivering = delivery;
      return delivery;
    },
    async stop() {
      clearInterval(timer);
      await delivering.catch(() => undefined);
    },
  };
}

function pickChanged<T>(products: readonly T[], random: () => number): T[] {
  const picked = new Set<T>();
  while (picked.size < Math.min(CHANGES_PER_REPORT, products.length)) picked.add(products[Math.floor(random() * products.length)]!);
  return [...picked];
}

async function loadState(file: string, skus: readonly string[]): Promise<PartnerState> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  // The partner's opening stock, deterministic like the rest of the demo; a saved state overrides it.
  const random = seededRandom(0x4d4147);
  const stock: PartnerState['stock'] = {};
  for (const sku of skus) {
    const onHand = Math.floor(random() * 60);
    stock[sku] = { onHand, reserved: Math.min(onHand, Math.floor(random() * 3)) };
  }
  if (text === undefined) return { reports: 0, stock };
  const saved = JSON.parse(text) as Partial<PartnerState>;
  if (typeof saved.reports !== 'number' || typeof saved.stock !== 'object' || saved.stock === null) {
    throw new Error(`sandbox partner warehouse state ${file}: expected {"reports": n, "stock": {...}}; delete the file to start over`);
  }
  for (const sku of skus) stock[sku] = saved.stock[sku] ?? stock[sku]!;
  return { reports: saved.reports, stock };
}

async function saveState(file: string, state: PartnerState): Promise<void> {
  await writeWhole(file, Buffer.from(JSON.stringify(state)));
}

/** Writes under a dot-name in the same folder and renames: readers never see half a file. */
async function writeWhole(file: string, content: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = join(dirname(file), `.${basename(file)}.part`);
  await writeFile(temporary, content);
  await rename(temporary, file);
}
