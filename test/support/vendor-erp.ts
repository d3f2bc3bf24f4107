/**
 * An ERP database shaped the way vendors ship them, not the way the sandbox ERP is: mixed-case
 * quoted identifiers, a stock table keyed by (product, warehouse) with no id column and no
 * modification time, decimal quantities, a "blocked" flag on products, and a login that may
 * only read. The hub must sync it by configuration alone (docs/configuration.md, "Connecting
 * your ERP database").
 *
 * Its SKUs are the demo catalogue's (PL-000001 …), so the Shopify simulator lists them. The
 * expected Shopify quantities are computed here from the rows this module wrote, with the
 * mapping's rules restated, independently of the hub's code.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { DEMO_SHOPIFY_LOCATIONS, DEMO_UNLISTED_EVERY } from '../../sandbox/demo-catalog';

export const VENDOR_READER = { user: 'vendor_reader', password: 'reader-secret' };

/** Warehouses: two sold online, one (returns) never. */
const WAREHOUSES = [
  { id: 10, code: 'MAG-GLOWNY', target: DEMO_SHOPIFY_LOCATIONS[0]!.id },
  { id: 20, code: 'SKLEP-01', target: DEMO_SHOPIFY_LOCATIONS[1]!.id },
  { id: 30, code: 'ZWROTY', target: undefined },
] as const;

/** The stock mapping of the vendor ERP, as a mapping file. */
export const VENDOR_STOCK_MAPPING_YAML = `entity: stock
locations:
  - target: ${WAREHOUSES[0].target}
    sources: [${WAREHOUSES[0].code}]
  - target: ${WAREHOUSES[1].target}
    sources: [${WAREHOUSES[1].code}]
ignoreSourceLocations: [${WAREHOUSES[2].code}]
`;

/** The erp-sql `tables:` block for the vendor schema (quoted mixed-case names, composite key, no modification time). */
export function vendorErpTables(notForSaleValue: boolean | number) {
  return {
    products: { table: 'Towary', id: 'TowarId', sku: 'Indeks', name: 'Nazwa', notForSale: { column: 'Zablokowany', in: [notForSaleValue] } },
    locations: { table: 'Magazyny', id: 'MagazynId', code: 'Symbol' },
    stock: { table: 'StanyMagazynowe', id: ['TowarId', 'MagazynId'], productId: 'TowarId', locationId: 'MagazynId', onHand: 'Ilosc', reserved: 'Rezerwacja' },
  };
}

export interface VendorStockRow {
  productId: number;
  warehouseId: number;
  /** Decimal text, e.g. "12.500". */
  onHand: string;
  reserved: string;
}

export interface VendorErp {
  /** Connection string of the read-only login. */
  readerConnectionString: string;
  /** Products whose SKU the simulator lists. */
  listedSkus(): string[];
  blockedSkus(): string[];
  /** `${sku}|${locationId}` → available, as Shopify should show it. */
  expectedShopifyStock(): Map<string, number>;
  /** Sets new quantities on `count` stock rows of sold warehouses, of listed, unblocked products, each changing what Shopify should show. Returns the keys changed. */
  changeStockRows(count: number): Promise<string[]>;
  setBlocked(sku: string, blocked: boolean): Promise<void>;
  close(): Promise<void>;
}

const SKU = (id: number) => `PL-${String(id).padStart(6, '0')}`;

/**
 * Creates and fills the vendor schema on PostgreSQL (as the server's superuser), with a login
 * that can only read it.
 */
export async function createVendorErpOnPostgres(adminConnectionString: string, products: number): Promise<VendorErp> {
  const admin = new pg.Client({ connectionString: adminConnectionString });
  await admin.connect();
  await admin.query(`
    create table "Towary" ("TowarId" integer primary key, "Indeks" varchar(40) not null unique, "Nazwa" varchar(200) not null, "Zablokowany" boolean not null default false);
    create table "Magazyny" ("MagazynId" integer primary key, "Symbol" varchar(20) not null unique);
    create table "StanyMagazynowe" (
      "TowarId" integer not null references "Towary",
      "MagazynId" integer not null references "Magazyny",
      "Ilosc" numeric(12, 3) not null,
      "Rezerwacja" numeric(12, 3) not null default 0,
      primary key ("TowarId", "MagazynId"));
    create role ${VENDOR_READER.user} login password '${VENDOR_READER.password}';
    grant usage on schema public to ${VENDOR_READER.user};
    grant select on all tables in schema public to ${VENDOR_READER.user};
  `);
  const state = seedRows(products);
  await admin.query(`insert into "Magazyny" ("MagazynId", "Symbol") select * from unnest($1::int[], $2::text[])`, [WAREHOUSES.map((w) => w.id), WAREHOUSES.map((w) => w.code)]);
  const ids = [...state.products.keys()];
  await admin.query(`insert into "Towary" ("TowarId", "Indeks", "Nazwa", "Zablokowany") select * from unnest($1::int[], $2::text[], $3::text[], $4::bool[])`, [
    ids,
    ids.map(SKU),
    ids.map((id) => `Produkt ${id} – żółty`),
    ids.map((id) => state.products.get(id)!.blocked),
  ]);
  const rows = [...state.stock.values()];
  await admin.query(`insert into "StanyMagazynowe" select * from unnest($1::int[], $2::int[], $3::numeric[], $4::numeric[])`, [
    rows.map((r) => r.productId),
    rows.map((r) => r.warehouseId),
    rows.map((r) => r.onHand),
    rows.map((r) => r.reserved),
  ]);
  const url = new URL(adminConnectionString);
  url.username = VENDOR_READER.user;
  url.password = VENDOR_READER.password;
  return vendorErp(state, url.toString(), {
    update: async (row) => {
      await admin.query(`update "StanyMagazynowe" set "Ilosc" = $1, "Rezerwacja" = $2 where "TowarId" = $3 and "MagazynId" = $4`, [row.onHand, row.reserved, row.productId, row.warehouseId]);
    },
    block: async (productId, blocked) => {
      await admin.query(`update "Towary" set "Zablokowany" = $1 where "TowarId" = $2`, [blocked, productId]);
    },
    close: () => admin.end(),
  });
}

/**
 * The same schema on MySQL/MariaDB (backquoted mixed-case names, `tinyint(1)` as the blocked
 * flag, as MySQL ERPs have it), with a login that can only read it.
 */
export async function createVendorErpOnMysql(adminConnectionString: string, products: number): Promise<VendorErp> {
  const admin = await mysql.createConnection({ uri: adminConnectionString, multipleStatements: true });
  await admin.query(`
    create table \`Towary\` (\`TowarId\` int primary key, \`Indeks\` varchar(40) not null unique, \`Nazwa\` varchar(200) not null, \`Zablokowany\` tinyint(1) not null default 0);
    create table \`Magazyny\` (\`MagazynId\` int primary key, \`Symbol\` varchar(20) not null unique);
    create table \`StanyMagazynowe\` (
      \`TowarId\` int not null, \`MagazynId\` int not null,
      \`Ilosc\` decimal(12, 3) not null, \`Rezerwacja\` decimal(12, 3) not null default 0,
      primary key (\`TowarId\`, \`MagazynId\`),
      foreign key (\`TowarId\`) references \`Towary\` (\`TowarId\`),
      foreign key (\`MagazynId\`) references \`Magazyny\` (\`MagazynId\`));
    create user if not exists '${VENDOR_READER.user}'@'%' identified by '${VENDOR_READER.password}';
    grant select on \`Towary\` to '${VENDOR_READER.user}'@'%';
    grant select on \`Magazyny\` to '${VENDOR_READER.user}'@'%';
    grant select on \`StanyMagazynowe\` to '${VENDOR_READER.user}'@'%';
  `);
  const state = seedRows(products);
  await admin.query('insert into `Magazyny` (`MagazynId`, `Symbol`) values ?', [WAREHOUSES.map((w) => [w.id, w.code])]);
  await admin.query('insert into `Towary` (`TowarId`, `Indeks`, `Nazwa`, `Zablokowany`) values ?', [
    [...state.products].map(([id, product]) => [id, SKU(id), `Produkt ${id} – żółty`, product.blocked ? 1 : 0]),
  ]);
  await admin.query('insert into `StanyMagazynowe` values ?', [[...state.stock.values()].map((r) => [r.productId, r.warehouseId, r.onHand, r.reserved])]);
  const url = new URL(adminConnectionString);
  url.username = VENDOR_READER.user;
  url.password = VENDOR_READER.password;
  return vendorErp(state, url.toString(), {
    update: async (row) => {
      await admin.query('update `StanyMagazynowe` set `Ilosc` = ?, `Rezerwacja` = ? where `TowarId` = ? and `MagazynId` = ?', [row.onHand, row.reserved, row.productId, row.warehouseId]);
    },
    block: async (productId, blocked) => {
      await admin.query('update `Towary` set `Zablokowany` = ? where `TowarId` = ?', [blocked ? 1 : 0, productId]);
    },
    close: () => admin.end(),
  });
}

interface VendorState {
  products: Map<number, { blocked: boolean }>;
  /** `${productId}|${warehouseId}` → row. */
  stock: Map<string, VendorStockRow>;
}

/** Deterministic rows: every product in both sold warehouses (decimal quantities), every third in returns too, every 97th blocked. */
function seedRows(products: number): VendorState {
  const state: VendorState = { products: new Map(), stock: new Map() };
  for (let id = 1; id <= products; id++) {
    state.products.set(id, { blocked: id % 97 === 0 });
    for (const warehouse of WAREHOUSES) {
      if (warehouse.id === 30 && id % 3 !== 0) continue;
      const onHand = ((id * 7 + warehouse.id) % 40) + (id % 2 === 0 ? 0.5 : 0);
      const reserved = (id + warehouse.id) % 5 === 0 && onHand >= 2 ? 1.25 : 0;
      state.stock.set(`${id}|${warehouse.id}`, { productId: id, warehouseId: warehouse.id, onHand: onHand.toFixed(3), reserved: reserved.toFixed(3) });
    }
  }
  return state;
}

function vendorErp(
  state: VendorState,
  readerConnectionString: string,
  db: { update(row: VendorStockRow): Promise<void>; block(productId: number, blocked: boolean): Promise<void>; close(): Promise<void> },
): VendorErp {
  // The simulator leaves every DEMO_UNLISTED_EVERY-th demo product out of the shop.
  const listed = (id: number) => id % DEMO_UNLISTED_EVERY !== 0;
  const available = (row: VendorStockRow | undefined) => (row === undefined ? 0 : Math.max(0, Math.floor(Number(row.onHand)) - Math.ceil(Number(row.reserved))));
  let round = 0;
  return {
    readerConnectionString,
    listedSkus: () => [...state.products.keys()].filter(listed).map(SKU),
    blockedSkus: () => [...state.products].filter(([, p]) => p.blocked).map(([id]) => SKU(id)),
    expectedShopifyStock() {
      const expected = new Map<string, number>();
      for (const [id, product] of state.products) {
        if (!listed(id)) continue;
        for (const warehouse of WAREHOUSES) {
          if (warehouse.target === undefined) continue;
          expected.set(`${SKU(id)}|${warehouse.target}`, product.blocked ? 0 : available(state.stock.get(`${id}|${warehouse.id}`)));
        }
      }
      return expected;
    },
    async changeStockRows(count) {
      round += 1;
      const changed: string[] = [];
      for (const row of state.stock.values()) {
        if (changed.length === count) break;
        const target = WAREHOUSES.find((w) => w.id === row.warehouseId)?.target;
        if (target === undefined || !listed(row.productId) || state.products.get(row.productId)!.blocked) continue;
        if ((row.productId + round) % 7 !== 0) continue;
        const before = available(row);
        const next: VendorStockRow = { ...row, onHand: (Number(row.onHand) + 3 + round).toFixed(3) };
        if (available(next) === before) continue;
        state.stock.set(`${row.productId}|${row.warehouseId}`, next);
        await db.update(next);
        changed.push(`${SKU(row.productId)}|${target}`);
      }
      if (changed.length < count) throw new Error(`vendor ERP: only ${changed.length} rows could be changed; seed more products`);
      return changed;
    },
    async setBlocked(sku, blocked) {
      const id = Number(sku.slice(3));
      state.products.set(id, { blocked });
      await db.block(id, blocked);
    },
    close: () => db.close(),
  };
}
