/**
 * `connectors check` for erp-sql: proves the configured tables, columns and their types against
 * the ERP's database, and says what it found.
 */
import { sql } from 'kysely';
import type { CheckResult } from '../contract';
import type { ErpSqlClient } from './client';
import { verifyColumnTypes, verifyPriceTables, verifyReferences } from './column-types';
import { columnLabel, configuredColumns, stockChangeDetection, type ErpSqlConfig, type ErpStockQuery } from './config';
import { ErpQueryStockSource } from './query-stock-source';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';

/**
 * Reads one row of each configured table, with every configured column; verifies the
 * columns' types (column-types.ts); then checks that stock rows find their products and
 * locations. With tables.prices and tables.priceLists, verifies those too (verifyPriceTables:
 * every problem named by its config path). A wrong table or column name, a column of the wrong
 * type, or references that cannot be joined fail here with the config path to fix. Throws
 * typed errors like the reads do.
 *
 * `config`: the connector's config, whose price tables are checked when it has them.
 */
export async function checkErpConnection(client: ErpSqlClient, config: Pick<ErpSqlConfig, 'tables' | 'queries'>): Promise<CheckResult> {
  if (config.queries?.stock !== undefined) return checkStockQuery(client, config.queries.stock);
  const { products, locations } = client.tables;
  const { prices, priceLists } = config.tables ?? {};
  let stockRows = 0;
  for (const key of ['products', 'locations', 'stock'] as const) {
    const columns = sql.join(configuredColumns(client.tables[key]).map(({ column }) => client.columnNamed(key, column)));
    const rows = await client.rows(sql`select ${columns} from ${client.table(key)} order by 1 ${client.limit(1)}`, { purpose: 'check', table: key });
    if (key === 'stock') stockRows = rows.length;
  }
  await verifyColumnTypes(client);
  if (stockRows > 0) await verifyReferences(client);
  const unusableTime = stockRows > 0 ? await modificationTimeProblem(client) : undefined;
  if (unusableTime !== undefined) return { ok: false, detail: unusableTime };
  if (prices !== undefined && priceLists !== undefined) await verifyPriceTables(client, { prices, priceLists });
  const [counts] = await client.rows(
    sql<{ products: number | string }>`select count(*) as products from ${client.table('products')}`,
    { purpose: 'check', table: 'products' },
  );
  const codes = await client.rows(
    sql<{ code: unknown }>`select ${client.column('locations', 'code')} as code from ${client.table('locations')} order by 1 ${client.limit(11)}`,
    { purpose: 'check', table: 'locations' },
  );
  let priceDetail = '';
  if (prices !== undefined && priceLists !== undefined) {
    const table = priceLists.table.includes('.') || client.schema === undefined ? priceLists.table : `${client.schema}.${priceLists.table}`;
    const lists = await client.rows(sql<{ code: unknown }>`select ${sql.ref(priceLists.code)} as code from ${sql.table(table)} order by 1 ${client.limit(11)}`, { purpose: 'check' });
    priceDetail = `, price lists in "${priceLists.table}": ${shown(lists.map((row) => row.code)) || '(none)'}`;
  }
  return {
    ok: true,
    detail:
      `connected to ${client.databaseLabel()}: ${Number(counts?.products ?? 0).toLocaleString('en-US')} products in "${products.table}", ` +
      `locations in "${locations.table}": ${shown(codes.map((row) => row.code))}${priceDetail}`,
  };
}

/** Rows of queries.stock whose values the check maps as the reads would. */
const QUERY_SAMPLE_ROWS = 200;

/**
 * `connectors check` of a stock query: it runs, returns every configured column, returns one row
 * per SKU and location, and its sampled rows map to stock (numbers where quantities go, times
 * where the modification time goes). Each problem names its config path.
 */
async function checkStockQuery(client: ErpSqlClient, query: ErpStockQuery): Promise<CheckResult> {
  const source = sql`(${sql.raw(query.sql)}) q`;
  const fields = [...Object.entries(query.columns), ...(query.notForSale === undefined ? [] : [['notForSale.column', query.notForSale.column] as const])];
  // Each column alone, on no rows: a missing one is named by its config key, not by the driver.
  for (const [field, column] of fields) {
    if (column === undefined) continue;
    try {
      await client.rows(sql`select ${sql.ref(`q.${column}`)} from ${source} where 1 = 0`, { purpose: 'check' });
    } catch (err) {
      const found = await client.rows(sql`select * from ${source} where 1 = 0`, { purpose: 'check' }).then(
        () => true,
        () => false,
      );
      if (!found) throw err; // the query itself does not run: the driver's message says why
      return { ok: false, detail: `erp-sql: queries.stock.columns.${field} names "${column}", which the query does not return (names as the database reports them; PostgreSQL folds unquoted aliases to lower case)` };
    }
  }
  const sku = sql.ref(`q.${query.columns.sku}`);
  const location = sql.ref(`q.${query.columns.location}`);
  const [duplicate] = await client.rows(
    sql<{ sku: unknown; location: unknown; n: number | string }>`
      select ${sku} as sku, ${location} as location, count(*) as n from ${source}
      group by ${sku}, ${location} having count(*) > 1 order by 1, 2 ${client.limit(1)}`,
    { purpose: 'check' },
  );
  if (duplicate !== undefined) {
    return { ok: false, detail: `erp-sql: queries.stock returns ${Number(duplicate.n)} rows for SKU ${JSON.stringify(duplicate.sku)} at ${JSON.stringify(duplicate.location)}: it must return one row per SKU and location (sum or filter in the query)` };
  }
  const sampleSource = new ErpQueryStockSource(client, query, QUERY_SAMPLE_ROWS);
  const sample = await sampleSource.readStockPage({ mode: 'full', cursor: null, limit: QUERY_SAMPLE_ROWS });
  const badRow = sample.rejected.find((rejection) => rejection.category === QUARANTINE_CATEGORY.invalidSourceRow);
  if (badRow !== undefined) return { ok: false, detail: `erp-sql: a row of queries.stock does not map to stock: ${badRow.reason} (columns at queries.stock.columns)` };
  const [counts] = await client.rows(sql<{ total: number | string; skus: number | string }>`select count(*) as total, count(distinct ${sku}) as skus from ${source}`, { purpose: 'check' });
  const locations = [...new Set(sample.levels.map((level) => level.location))].sort();
  return {
    ok: true,
    detail: `connected to ${client.databaseLabel()}: queries.stock returns ${Number(counts?.total ?? 0).toLocaleString('en-US')} rows for ${Number(counts?.skus ?? 0).toLocaleString('en-US')} SKUs, locations such as ${shown(locations) || '(none)'}`,
  };
}

/** Rows of a stock table below which one shared modification time is not suspicious (a fresh, small ERP). */
const SAME_TIME_SUSPICIOUS_ROWS = 100;

/**
 * Why the configured modification column cannot drive delta runs, if it cannot: NULL in every
 * row, or one value in every row of a table that is not tiny (an ERP that fills it only at
 * import). Delta runs would read nothing after their first and never say so.
 */
async function modificationTimeProblem(client: ErpSqlClient): Promise<string | undefined> {
  const stock = client.tables.stock;
  if (stockChangeDetection(stock) !== 'modifiedAt') return undefined;
  const modifiedAt = client.column('stock', 'modifiedAt');
  const [row] = await client.rows(
    sql<{ total: number | string; filled: number | string; distinct_times: number | string }>`
      select count(*) as total, count(${modifiedAt}) as filled, count(distinct ${modifiedAt}) as distinct_times from ${client.table('stock')}`,
    { purpose: 'check', table: 'stock' },
  );
  const total = Number(row?.total ?? 0);
  const label = columnLabel(client.tables, 'stock', 'modifiedAt');
  const advice = 'delta runs would find no changes; set tables.stock.changeDetection: compare (or name a column the ERP sets on every change)';
  if (Number(row?.filled ?? 0) === 0) return `erp-sql: ${label} is NULL in all ${total} rows: ${advice}`;
  if (total >= SAME_TIME_SUSPICIOUS_ROWS && Number(row?.distinct_times ?? 0) === 1) return `erp-sql: ${label} holds one value in all ${total} rows: ${advice}`;
  return undefined;
}

/** The first 10 codes, trimmed, and "..." when there are more. */
function shown(codes: readonly unknown[]): string {
  const listed = codes.slice(0, 10).map((code) => String(code).trim());
  return `${listed.join(', ')}${codes.length > 10 ? ', ...' : ''}`;
}
