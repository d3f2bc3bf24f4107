/**
 * The state store's database: table types and the Kysely instance for either dialect.
 *
 * Column types are chosen so that one code path works on both dialects: timestamps are ISO-8601
 * UTC strings (TEXT), flags are integers 0/1 (SQLite drivers do not bind booleans), JSON is TEXT.
 */
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type Generated,
  type SqliteDialectConfig,
} from 'kysely';
import pg from 'pg';
import { openSqliteFile } from './sqlite-connection';

export type StateStoreConfig =
  | {
      driver: 'sqlite';
      /** SQLite database file; its folder is created when missing. */
      file: string;
    }
  | {
      driver: 'postgres';
      /** libpq-style URL, e.g. `postgresql://omnisync@db:5432/omnisync`. */
      connectionString: string;
      /** Schema holding the omnisync tables (created by migrate()). Default: the connection's search_path (usually `public`). */
      schema?: string;
    };

export type StateDialect = StateStoreConfig['driver'];

/** WAL pages (4 KiB each) after which a commit checkpoints; see openStateDatabase. */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** Table names share one prefix so the store can live in a database other tools use too. */
export const TABLE_PREFIX = 'omnisync_';

export interface SyncCursorTable {
  sync_name: string;
  mode: string;
  cursor_json: string;
  updated_at: string;
}

/**
 * The last-pushed value of every record of every entity, per sync and target: what the target
 * was last confirmed to hold. `record_key` is the business key (a SKU); `record_part` the part
 * of the record within it ('' for none; stock: the target location). `value` is the entity's
 * canonical text (stock: the quantity; price: see core/entities/price.ts).
 */
export interface SnapshotTable {
  sync_name: string;
  target: string;
  entity: string;
  record_key: string;
  record_part: string;
  value: string;
  pushed_at: string;
}

/** Staged changes of one page for one target, as one row (items as JSON, see StagedItemJson). */
export interface PushBatchTable {
  batch_id: string;
  target: string;
  items_json: string;
  staged_at: string;
}

export type PushOutcomeStatus = 'pushed' | 'failed';

export interface PushOutcomeTable {
  id: Generated<number>;
  batch_id: string;
  target: string;
  status: PushOutcomeStatus;
  items_json: string;
  recorded_at: string;
}

/** Every price a channel was confirmed to show, from when (EU Omnibus: the lowest of 30 days). */
export interface PriceHistoryTable {
  target: string;
  sku: string;
  /** When the channel started to show it (ISO time of the confirmed write). */
  since: string;
  amount: string;
  currency: string;
  compare_at: string | null;
}

/** The latest stock count of a SKU at a source's location; quantities as decimal text. */
export interface LocationCountTable {
  source: string;
  location: string;
  sku: string;
  on_hand: string;
  reserved: string;
  /** The source's time of the count (ISO). */
  counted_at: string;
}

/** A stock movement an event reported, once per (source, movement id). */
export interface StockMovementTable {
  source: string;
  movement_id: string;
  location: string;
  sku: string;
  /** Signed change of on hand, decimal text. */
  delta: string;
  /** The source's time of the movement (ISO). */
  occurred_at: string;
  received_at: string;
}

export interface CrosswalkTable {
  connector_id: string;
  kind: string;
  local_key: string;
  remote_id: string;
}

export interface QuarantineTable {
  id: Generated<number>;
  scope: string;
  entity: string;
  record_key: string;
  reason: string;
  kind: string;
  payload_json: string;
  /**
   * Hash of (scope, entity, record_key, reason): the key under which an open record is counted
   * again. A hash, because a unique index over the long texts themselves can exceed
   * PostgreSQL's index row size limit.
   */
  dedupe_key: string;
  first_seen_at: string;
  last_seen_at: string;
  occurrences: number;
  /** 0 open, 1 resolved. */
  resolved: number;
  /** When it was marked resolved (ISO time); null while open. */
  resolved_at: string | null;
  /** Short label of the cause (core/quarantine-categories.ts); '' for entries older than it. */
  category: string;
  /** The business key it concerns (a SKU); '' when unknown. */
  subject: string;
  /** The target that refused it; '' for problems of the source or the mapping. */
  target: string;
}

export interface StateDatabase {
  omnisync_sync_cursor: SyncCursorTable;
  omnisync_snapshot: SnapshotTable;
  omnisync_push_batch: PushBatchTable;
  omnisync_push_outcome: PushOutcomeTable;
  omnisync_price_history: PriceHistoryTable;
  omnisync_crosswalk: CrosswalkTable;
  omnisync_quarantine: QuarantineTable;
  omnisync_location_count: LocationCountTable;
  omnisync_stock_movement: StockMovementTable;
}

/**
 * Opens the database lazily: no connection is made until the first query, so a wrong
 * connection string surfaces as that query's error (with the driver's message).
 */
export function openStateDatabase(config: StateStoreConfig): Kysely<StateDatabase> {
  if (config.driver === 'sqlite') {
    const dialect = new WriterSqliteDialect({
      database: async () =>
        openSqliteFile(config.file, {
          create: true,
          pragmas: [
            // Several worker processes may share the file: wait for a writer instead of failing
            // (first, so that switching to WAL waits too).
            'busy_timeout = 10000',
            // WAL lets readers (CLI, reports) run while a worker writes. synchronous=NORMAL is
            // durable across process crashes in WAL mode (only an OS crash may lose the last
            // commits), which is what a worker killed with -9 needs.
            'journal_mode = WAL',
            'synchronous = NORMAL',
            // Checkpoint every ~40 MB of WAL instead of SQLite's 4 MB: a stock push rewrites the
            // same index pages in every confirmation, and a rarer checkpoint copies each once.
            `wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`,
          ],
        }),
    });
    const db = new Kysely<StateDatabase>({ dialect });
    return db;
  }
  const pool = new pg.Pool({ connectionString: config.connectionString, max: 10, application_name: 'omnisync-state' });
  // An idle connection dropped by the server emits 'error' on the pool, which would crash the
  // process if unhandled. The pool discards that connection; the next query opens a new one
  // (and reports the error itself if the server is really gone).
  pool.on('error', () => undefined);
  const db = new Kysely<StateDatabase>({ dialect: new PostgresDialect({ pool }) });
  return config.schema === undefined ? db : db.withSchema(config.schema);
}

/**
 * SQLite for several writer processes sharing one file (worker, CLI):
 *
 * - Transactions start with BEGIN IMMEDIATE, taking the write lock up front. A plain (deferred)
 *   BEGIN that reads before writing can fail with SQLITE_BUSY when another process wrote in
 *   between, and busy_timeout cannot help it; an immediate one simply waits its turn.
 * - The adapter declares transactional DDL (SQLite has it), so Kysely's Migrator runs the check
 *   "which migrations are applied" and the migrations themselves in one such transaction:
 *   processes starting together migrate one after the other instead of racing.
 */
class WriterSqliteDialect extends SqliteDialect {
  constructor(private readonly writerConfig: SqliteDialectConfig) {
    super(writerConfig);
  }

  override createDriver(): Driver {
    return new ImmediateTransactionSqliteDriver(this.writerConfig);
  }

  override createAdapter(): SqliteAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

class ImmediateTransactionSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
