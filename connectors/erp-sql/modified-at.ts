/**
 * The SQL for a stock row's modification time, per dialect. The databases keep times
 * differently, so comparing, ordering and writing the cursor need dialect-specific SQL; this
 * module is the only place that has it. Everything it returns is ISO-8601 UTC text.
 *
 * PostgreSQL (`timestamp` or `timestamptz` column):
 *   The session runs with TimeZone=UTC (client.ts), so a `timestamp` without time zone is read
 *   as UTC. Rows are compared and ordered by the column itself (index-friendly), and the
 *   cursor keeps the column's full precision — microseconds, `2025-03-01T10:00:00.123456Z` —
 *   because a cursor truncated to milliseconds would sit before rows it already returned.
 *   Levels carry milliseconds.
 *
 * SQLite (ISO-8601 text in UTC):
 *   SQLite accepts several text shapes (`T` or space, with or without `Z`, with or without
 *   fractions) that do not sort alike, so rows are compared and ordered by
 *   strftime('%Y-%m-%dT%H:%M:%fZ', column): one shape, milliseconds, in which text order is
 *   time order; the cursor holds that value. An index on exactly that expression and the id
 *   (sandbox/erp/schema.ts creates one) lets a delta read seek instead of sorting:
 *     create index stany_zmodyfikowano_iso_idx on stany (strftime('%Y-%m-%dT%H:%M:%fZ', zmodyfikowano), id);
 *   Without it, a condition on the raw column (text from the cursor's date on) still limits
 *   the rows sorted to those since that date. Unparsable text is NULL here: such rows are never
 *   picked by a delta read and are rejected by a full one.
 *
 * MySQL and MariaDB (`datetime`, `timestamp`, with or without fractions (fsp), or `date`):
 *   Sessions run with time_zone '+00:00' (client.ts), so a `timestamp` is shown in UTC and a
 *   `datetime`, which has no zone, is read as UTC. As on PostgreSQL, rows are compared and
 *   ordered by the column itself, and the cursor keeps microseconds (date_format's %f); the
 *   cursor's time is given to the server as `cast('YYYY-MM-DD HH:MM:SS.ffffff' as datetime(6))`,
 *   because neither server parses a `Z` suffix. A zero date (`0000-00-00`, which servers without
 *   NO_ZERO_DATE accept) has no ISO form: isoMillis is NULL there, and the row is rejected.
 *
 * SQL Server (`datetime2`, `datetime`, `smalldatetime`, `date`, or `datetimeoffset`):
 *   switchoffset(column, '+00:00') turns each of them into UTC (a type without offset is taken
 *   as UTC, the offset of a `datetimeoffset` is applied), then into datetime2(7), whose parts
 *   build the text (FORMAT() would be far slower). The cursor keeps all 7 fractional digits
 *   (100 ns): shortened to microseconds it would sit before rows it already returned. Rows are
 *   compared with the cursor as `datetimeoffset(7)`, which compares instants whatever the
 *   column's type, and ordered by the column itself.
 */
import { sql, type RawBuilder } from 'kysely';
import type { ErpDialect } from './config';

export interface ModifiedAtSql {
  /** What delta reads compare with the cursor and order by (with the stock id). */
  sortKey: RawBuilder<unknown>;
  /** The cursor's time as a value comparable with sortKey. */
  cursorValue(afterIso: string): RawBuilder<unknown>;
  /** sortKey as cursor text (ISO-8601 UTC at the database's precision). */
  cursorText: RawBuilder<string | null>;
  /** The time as ISO-8601 UTC with milliseconds, for StockLevel.at. */
  isoMillis: RawBuilder<string | null>;
  /** An index-friendly condition on the raw column that every row after `afterIso` meets. */
  lowerBound(afterIso: string): RawBuilder<boolean>;
}

export function modifiedAtSql(dialect: ErpDialect, column: RawBuilder<unknown>): ModifiedAtSql {
  if (dialect === 'mysql') return mysqlModifiedAt(column);
  if (dialect === 'mssql') return mssqlModifiedAt(column);
  if (dialect === 'postgres') {
    const utc = sql`(cast(${column} as timestamptz) at time zone 'UTC')`;
    return {
      sortKey: column,
      cursorValue: (afterIso) => sql`cast(${afterIso} as timestamptz)`,
      cursorText: sql<string | null>`to_char(${utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
      isoMillis: sql<string | null>`to_char(${utc}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
      lowerBound: () => sql<boolean>`true`, // the comparison on sortKey is index-friendly itself
    };
  }
  // The format must stay byte-identical to the index expression above for SQLite to use it.
  const normalised = sql<string | null>`strftime('%Y-%m-%dT%H:%M:%fZ', ${column})`;
  return {
    sortKey: normalised,
    cursorValue: (afterIso) => sql`${afterIso}`,
    cursorText: normalised,
    isoMillis: normalised,
    // Any text form of a later UTC time starts with a date at least as late as the cursor's.
    lowerBound: (afterIso) => sql<boolean>`${column} >= ${afterIso.slice(0, 10)}`,
  };
}

function mysqlModifiedAt(column: RawBuilder<unknown>): ModifiedAtSql {
  const zeroDate = sql`(year(${column}) = 0 or month(${column}) = 0 or dayofmonth(${column}) = 0)`;
  return {
    sortKey: column,
    cursorValue: (afterIso) => sql`cast(${afterIso.replace('T', ' ').replace(/Z$/, '')} as datetime(6))`,
    cursorText: sql<string | null>`date_format(${column}, '%Y-%m-%dT%H:%i:%s.%fZ')`,
    isoMillis: sql<string | null>`case when ${zeroDate} then null else concat(left(date_format(${column}, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z') end`,
    lowerBound: () => sql<boolean>`true`, // the comparison on sortKey is index-friendly itself
  };
}

function mssqlModifiedAt(column: RawBuilder<unknown>): ModifiedAtSql {
  const utc = sql`cast(switchoffset(${column}, '+00:00') as datetime2(7))`;
  // Style 126 is ISO 8601; char(19) keeps `YYYY-MM-DDTHH:MM:SS`, the fraction is written from its parts.
  const seconds = sql`convert(char(19), ${utc}, 126)`;
  return {
    sortKey: column,
    cursorValue: (afterIso) => sql`cast(${afterIso} as datetimeoffset(7))`,
    cursorText: sql<string | null>`${seconds} + '.' + right('000000' + cast(datepart(nanosecond, ${utc}) / 100 as varchar(7)), 7) + 'Z'`,
    isoMillis: sql<string | null>`${seconds} + '.' + right('00' + cast(datepart(millisecond, ${utc}) as varchar(3)), 3) + 'Z'`,
    // SQL Server has no boolean literal; the comparison on sortKey limits the rows itself.
    lowerBound: () => sql<boolean>`1 = 1`,
  };
}

/**
 * A cursor time as read (cursorText), shortened to milliseconds when the sub-millisecond digits
 * are zero (`…00.123000Z` → `…00.123Z`, SQL Server's `…00.1230000Z` too), so cursors look like
 * every other omnisync time unless the ERP really stores finer fractions. Both forms compare the same.
 */
export function compactCursorTime(text: string): string {
  return text.replace(/(\.\d{3})0{3,4}Z$/, '$1Z');
}
