/**
 * Versioned schema of the state store, applied by Kysely's Migrator.
 *
 * Rules for adding a migration: append an entry with the next number (names sort as strings,
 * so keep the zero padding), never edit or reorder a released one, and write it with the schema
 * builder so it runs on both SQLite and PostgreSQL. Workers may start concurrently: the Migrator
 * serialises them with its lock table.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { StateDialect } from './database';

/** Kysely's bookkeeping tables, prefixed so they cannot collide with another tool's migrations. */
export const MIGRATION_TABLE = 'omnisync_migration';
export const MIGRATION_LOCK_TABLE = 'omnisync_migration_lock';

export function stateMigrations(dialect: StateDialect): Record<string, Migration> {
  return {
    '0001_initial': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its own version
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('omnisync_sync_cursor')
          .addColumn('sync_name', 'text', (col) => col.notNull())
          .addColumn('mode', 'text', (col) => col.notNull())
          .addColumn('cursor_json', 'text', (col) => col.notNull())
          .addColumn('updated_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('omnisync_sync_cursor_pk', ['sync_name', 'mode'])
          .execute();

        await db.schema
          .createTable('omnisync_stock_snapshot')
          .addColumn('target', 'text', (col) => col.notNull())
          .addColumn('sku', 'text', (col) => col.notNull())
          .addColumn('location', 'text', (col) => col.notNull())
          .addColumn('quantity', 'integer', (col) => col.notNull())
          .addColumn('pushed_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('omnisync_stock_snapshot_pk', ['target', 'sku', 'location'])
          .execute();

        // The primary key's order (batch, target, sku, location) serves "pending items of a
        // batch in (sku, location) order" without a sort.
        await db.schema
          .createTable('omnisync_stock_push_item')
          .addColumn('batch_id', 'text', (col) => col.notNull())
          .addColumn('target', 'text', (col) => col.notNull())
          .addColumn('sku', 'text', (col) => col.notNull())
          .addColumn('location', 'text', (col) => col.notNull())
          .addColumn('quantity', 'integer', (col) => col.notNull())
          .addColumn('previous_quantity', 'integer')
          .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('pending', 'pushed', 'failed')`))
          .addColumn('reason', 'text')
          .addColumn('updated_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('omnisync_stock_push_item_pk', ['batch_id', 'target', 'sku', 'location'])
          .execute();

        await db.schema
          .createTable('omnisync_crosswalk')
          .addColumn('connector_id', 'text', (col) => col.notNull())
          .addColumn('kind', 'text', (col) => col.notNull())
          .addColumn('local_key', 'text', (col) => col.notNull())
          .addColumn('remote_id', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('omnisync_crosswalk_pk', ['connector_id', 'kind', 'local_key'])
          .execute();

        await db.schema
          .createTable('omnisync_quarantine')
          .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (col) =>
            dialect === 'postgres' ? col.primaryKey() : col.primaryKey().autoIncrement(),
          )
          .addColumn('scope', 'text', (col) => col.notNull())
          .addColumn('entity', 'text', (col) => col.notNull())
          .addColumn('record_key', 'text', (col) => col.notNull())
          .addColumn('reason', 'text', (col) => col.notNull())
          .addColumn('kind', 'text', (col) => col.notNull())
          .addColumn('payload_json', 'text', (col) => col.notNull())
          .addColumn('dedupe_key', 'text', (col) => col.notNull())
          .addColumn('first_seen_at', 'text', (col) => col.notNull())
          .addColumn('last_seen_at', 'text', (col) => col.notNull())
          .addColumn('occurrences', 'integer', (col) => col.notNull().defaultTo(1))
          .addColumn('resolved', 'integer', (col) => col.notNull().defaultTo(0))
          .execute();
        // At most one open record per dedupe key; the upsert's conflict target.
        await db.schema
          .createIndex('omnisync_quarantine_open_uq')
          .on('omnisync_quarantine')
          .column('dedupe_key')
          .unique()
          .where(sql.ref('resolved'), '=', 0)
          .execute();
        await db.schema
          .createIndex('omnisync_quarantine_scope_idx')
          .on('omnisync_quarantine')
          .columns(['scope', 'resolved', 'last_seen_at'])
          .execute();
      },
    },
    '0002_quarantine_record_key': {
      // Staging asks, per page, which of its records are already quarantined.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its own version
      async up(db: Kysely<any>) {
        await db.schema
          .createIndex('omnisync_quarantine_record_idx')
          .on('omnisync_quarantine')
          .columns(['scope', 'entity', 'record_key'])
          .execute();
      },
    },
    // Staged batches as one row per page and target, and outcomes as one row per write call,
    // instead of a row per item that every confirmation updated: per pushed item, only its
    // snapshot row is written now (see database.ts). Batches that still had pending items are
    // carried over; finished ones were history only and go with the old table.
    '0003_stock_push_batches': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its own time
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('omnisync_stock_push_batch')
          .addColumn('batch_id', 'text', (col) => col.notNull())
          .addColumn('target', 'text', (col) => col.notNull())
          .addColumn('items_json', 'text', (col) => col.notNull())
          .addColumn('staged_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('omnisync_stock_push_batch_pk', ['batch_id', 'target'])
          .execute();
        await db.schema
          .createTable('omnisync_stock_push_outcome')
          .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (col) =>
            dialect === 'postgres' ? col.primaryKey() : col.primaryKey().autoIncrement(),
          )
          .addColumn('batch_id', 'text', (col) => col.notNull())
          .addColumn('target', 'text', (col) => col.notNull())
          .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('pushed', 'failed')`))
          .addColumn('items_json', 'text', (col) => col.notNull())
          .addColumn('recorded_at', 'text', (col) => col.notNull())
          .execute();
        await db.schema.createIndex('omnisync_stock_push_outcome_batch_idx').on('omnisync_stock_push_outcome').columns(['batch_id', 'target']).execute();

        const open = (await db.selectFrom('omnisync_stock_push_item').select(['batch_id', 'target']).where('status', '=', 'pending').distinct().execute()) as Array<{
          batch_id: string;
          target: string;
        }>;
        const now = new Date().toISOString();
        for (const { batch_id, target } of open) {
          const rows = (await db
            .selectFrom('omnisync_stock_push_item')
            .select(['sku', 'location', 'quantity', 'previous_quantity', 'status', 'reason'])
            .where('batch_id', '=', batch_id)
            .where('target', '=', target)
            .orderBy('sku')
            .orderBy('location')
            .execute()) as Array<{ sku: string; location: string; quantity: number; previous_quantity: number | null; status: string; reason: string | null }>;
          const items = rows.map((row) => [row.sku, row.location, Number(row.quantity), row.previous_quantity === null ? null : Number(row.previous_quantity)]);
          await db.insertInto('omnisync_stock_push_batch').values({ batch_id, target, items_json: JSON.stringify(items), staged_at: now }).execute();
          const pushed = rows.filter((row) => row.status === 'pushed').map((row) => [row.sku, row.location]);
          const failed = rows.filter((row) => row.status === 'failed').map((row) => [row.sku, row.location, row.reason ?? '']);
          for (const [status, keys] of [
            ['pushed', pushed],
            ['failed', failed],
          ] as const) {
            if (keys.length > 0) {
              await db.insertInto('omnisync_stock_push_outcome').values({ batch_id, target, status, items_json: JSON.stringify(keys), recorded_at: now }).execute();
            }
          }
        }
        await db.schema.dropTable('omnisync_stock_push_item').execute();
      },
    },
    // Quarantine entries learn what they concern (the SKU, and the target for a target's
    // refusal) and why in one word, so they resolve by themselves once that SKU syncs cleanly
    // and summaries can group them by cause. Earlier entries get empty values: they stay open
    // until resolved by hand or seen again.
    '0004_quarantine_subject': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its own time
      async up(db: Kysely<any>) {
        await db.schema.alterTable('omnisync_quarantine').addColumn('category', 'text', (col) => col.notNull().defaultTo('')).execute();
        await db.schema.alterTable('omnisync_quarantine').addColumn('subject', 'text', (col) => col.notNull().defaultTo('')).execute();
        await db.schema.alterTable('omnisync_quarantine').addColumn('target', 'text', (col) => col.notNull().defaultTo('')).execute();
        await db.schema.alterTable('omnisync_quarantine').addColumn('resolved_at', 'text').execute();
        await db.schema
          .createIndex('omnisync_quarantine_subject_idx')
          .on('omnisync_quarantine')
          .columns(['scope', 'entity', 'target', 'subject'])
          .where(sql.ref('resolved'), '=', 0)
          .execute();
      },
    },
    // One snapshot for every entity, keyed by (sync, target, entity, record key, part), and
    // staged batches that any entity uses. The stock snapshot is kept: its rows move under the
    // entity "stock" with an empty sync name, and the first plan of each sync adopts the rows of
    // its targets (adoptLegacySnapshot), so a hub upgraded in place pushes nothing it pushed
    // before. Staged batches keep their rows: a stock item's JSON is already [key, part, value,
    // previous]. The price history starts empty.
    '0005_entity_snapshot': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its own time
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('omnisync_snapshot')
          .addColumn('sync_name', 'text', (col) => col.notNull())
          .addColumn('target', 'text', (col) => col.notNull())
          .addColumn('entity', 'text', (col) => col.notNull())
          .addColumn('record_key', 'text', (col) => col.notNull())
          .addColumn('record_part', 'text', (col) => col.notNull())
          .addColumn('value', 'text', (col) => col.notNull())
          .addColumn('pushed_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('omnisync_snapshot_pk', ['sync_name', 'target', 'entity', 'record_key', 'record_part'])
          .execute();
        await db
          .insertInto('omnisync_snapshot')
          .columns(['sync_name', 'target', 'entity', 'record_key', 'record_part', 'value', 'pushed_at'])
          .expression(
            db
              .selectFrom('omnisync_stock_snapshot')
              .select([sql.lit('').as('sync_name'), 'target', sql.lit('stock').as('entity'), 'sku', 'location', sql`cast(quantity as text)`.as('value'), 'pushed_at']),
          )
          .execute();
        await db.schema.dropTable('omnisync_stock_snapshot').execute();
        await db.schema.alterTable('omnisync_stock_push_batch').renameTo('omnisync_push_batch').execute();
        await db.schema.alterTable('omnisync_stock_push_outcome').renameTo('omnisync_push_outcome').execute();
        await db.schema
          .createTable('omnisync_price_history')
          .addColumn('target', 'text', (col) => col.notNull())
          .addColumn('sku', 'text', (col) => col.notNull())
          .addColumn('since', 'text', (col) => col.notNull())
          .addColumn('amount', 'text', (col) => col.notNull())
          .addColumn('currency', 'text', (col) => col.notNull())
          .addColumn('compare_at', 'text')
          .addPrimaryKeyConstraint('omnisync_price_history_pk', ['target', 'sku', 'since'])
          .execute();
      },
    },
    // The hub's own stock per source location (core/location-stock.ts): the latest count of each
    // (source, location, SKU), and the movements reported by events since, each once by id.
    '0006_location_stock': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema of its own time
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('omnisync_location_count')
          .addColumn('source', 'text', (col) => col.notNull())
          .addColumn('location', 'text', (col) => col.notNull())
          .addColumn('sku', 'text', (col) => col.notNull())
          .addColumn('on_hand', 'text', (col) => col.notNull())
          .addColumn('reserved', 'text', (col) => col.notNull())
          .addColumn('counted_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('omnisync_location_count_pk', ['source', 'sku', 'location'])
          .execute();
        await db.schema
          .createTable('omnisync_stock_movement')
          .addColumn('source', 'text', (col) => col.notNull())
          .addColumn('movement_id', 'text', (col) => col.notNull())
          .addColumn('location', 'text', (col) => col.notNull())
          .addColumn('sku', 'text', (col) => col.notNull())
          .addColumn('delta', 'text', (col) => col.notNull())
          .addColumn('occurred_at', 'text', (col) => col.notNull())
          .addColumn('received_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('omnisync_stock_movement_pk', ['source', 'movement_id'])
          .execute();
        await db.schema.createIndex('omnisync_stock_movement_sku_idx').on('omnisync_stock_movement').columns(['source', 'sku', 'location', 'occurred_at']).execute();
      },
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it is at their version, not today's types
export function createStateMigrator(db: Kysely<any>, dialect: StateDialect, schema: string | undefined): Migrator {
  const migrations = stateMigrations(dialect);
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  return new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
}
