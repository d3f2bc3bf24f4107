/**
 * A better-sqlite3 connection for Kysely that prepares each SQL text once.
 */
import type Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { LruMap } from '../core/lru-map';

/** Prepared statements kept per connection; the hot statements are a few dozen texts. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * A better-sqlite3 connection that prepares each SQL text once (least recently used ones are
 * dropped past STATEMENT_CACHE_SIZE). Kysely's SQLite driver prepares every query anew, and for
 * the multi-row statements of the stock path preparing cost as much as running them. Reusing a
 * statement is safe here: Kysely serialises the single connection, so no statement is run while
 * another run of it is still iterating, and SQLite re-prepares a statement by itself when a
 * migration changed the schema under it.
 */
export class StatementCachingDatabase implements SqliteDatabase {
  private readonly statements = new LruMap<string, SqliteStatement>(STATEMENT_CACHE_SIZE);

  constructor(private readonly database: Database.Database) {}

  prepare(sql: string): SqliteStatement {
    return this.statements.getOrCreate(sql, (text) => this.database.prepare(text));
  }

  close(): void {
    this.statements.clear();
    this.database.close();
  }
}
