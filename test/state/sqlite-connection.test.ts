/**
 * The one way omnisync opens SQLite files (state/sqlite-connection.ts), on real files: the
 * result codes callers classify errors by, integers beyond 2^53, and prepared statements reused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteFile, SqliteError } from '../../state/sqlite-connection';

const dir = mkdtempSync(join(tmpdir(), 'omnisync-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('openSqliteFile', () => {
  it('creates a file and its folder when asked, and names a missing one SQLITE_CANTOPEN otherwise', () => {
    const created = openSqliteFile(join(dir, 'new', 'a.sqlite'), { create: true, pragmas: ['journal_mode = WAL'] });
    expect(created.prepare('pragma journal_mode').all([])).toEqual([{ journal_mode: 'wal' }]);
    created.close();
    const missing = thrown(() => openSqliteFile(join(dir, 'absent.sqlite'), { create: false, pragmas: [] }));
    expect(missing).toBeInstanceOf(SqliteError);
    expect(missing).toMatchObject({ code: 'SQLITE_CANTOPEN' });
  });

  it('reports SQLite errors under their SQLite names: a missing table, a constraint, a read-only session, a held write lock', () => {
    const file = join(dir, 'codes.sqlite');
    const writer = openSqliteFile(file, { create: true, pragmas: [] });
    writer.prepare('create table t (id integer primary key)').run([]);
    writer.prepare('insert into t values (?)').run([1]);
    expect(thrown(() => writer.prepare('select * from nope'))).toMatchObject({ code: 'SQLITE_ERROR', message: 'no such table: nope' });
    expect(thrown(() => writer.prepare('insert into t values (?)').run([1]))).toMatchObject({ code: 'SQLITE_CONSTRAINT', errcode: 1555 });

    const reader = openSqliteFile(file, { create: false, pragmas: ['busy_timeout = 0', 'query_only = ON'] });
    expect(thrown(() => reader.prepare('insert into t values (?)').run([2]))).toMatchObject({ code: 'SQLITE_READONLY' });

    writer.prepare('begin immediate').run([]);
    const other = openSqliteFile(file, { create: false, pragmas: ['busy_timeout = 0'] });
    expect(thrown(() => other.prepare('begin immediate').run([]))).toMatchObject({ code: 'SQLITE_BUSY' });
    writer.prepare('commit').run([]);
    for (const connection of [writer, reader, other]) connection.close();
  });

  it('returns an integer beyond 2^53 exactly, as a bigint, and every other value of that read as usual', () => {
    const db = openSqliteFile(join(dir, 'wide.sqlite'), { create: true, pragmas: [] });
    db.prepare('create table q (id integer primary key, n integer, label text)').run([]);
    db.prepare('insert into q values (1, 5, ?), (2, 9007199254740993, ?)').run(['a', 'b']);
    const read = db.prepare('select id, n, label from q order by id');
    expect(read.reader).toBe(true);
    expect(read.all([])).toEqual([
      { id: 1, n: 5, label: 'a' },
      { id: 2, n: 9007199254740993n, label: 'b' },
    ]);
    // Plain objects (node:sqlite's own have a null prototype, slow to read in V8).
    expect(Object.getPrototypeOf(read.all([])[0])).toBe(Object.prototype);
    // The statement reads numbers again afterwards.
    expect(db.prepare('select id, n from q where id = ?').all([1])).toEqual([{ id: 1, n: 5 }]);
    expect(db.prepare('insert into q values (3, 1, null)').reader).toBe(false);
    db.close();
  });

  it('prepares each SQL text once per connection', () => {
    const db = openSqliteFile(join(dir, 'cache.sqlite'), { create: true, pragmas: [] });
    const text = 'select 1 as one';
    expect(db.prepare(text)).toBe(db.prepare(text));
    expect(db.prepare(text).all([])).toEqual([{ one: 1 }]);
    db.close();
  });
});
