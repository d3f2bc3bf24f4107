import fc from 'fast-check';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { paddedKeyLists, StatementTemplate, templateChunks } from '../../state/statement-template';

interface Db {
  item: { batch: string; sku: string; quantity: number; status: string };
}

/** A Kysely that compiles for the dialect and never connects. */
function compilerOnly(dialect: 'sqlite' | 'postgres'): Kysely<Db> {
  return new Kysely<Db>({
    dialect: {
      createAdapter: () => (dialect === 'sqlite' ? new SqliteAdapter() : new PostgresAdapter()),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => (dialect === 'sqlite' ? new SqliteIntrospector(db) : new PostgresIntrospector(db)),
      createQueryCompiler: () => (dialect === 'sqlite' ? new SqliteQueryCompiler() : new PostgresQueryCompiler()),
    },
  });
}

function upsertTemplate(db: Kysely<Db>) {
  return new StatementTemplate({ args: 1, columns: 2 }, ([batch]: [string], rows: ReadonlyArray<[sku: string, quantity: number]>) =>
    db
      .insertInto('item')
      .values(rows.map(([sku, quantity]) => ({ batch, sku, quantity, status: 'pending' })))
      .onConflict((oc) => oc.columns(['batch', 'sku']).doUpdateSet((eb) => ({ quantity: eb.ref('excluded.quantity') })).where('item.status', '=', 'pending')),
  );
}

describe('StatementTemplate', () => {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    it(`binds arguments, rows and the query's own constants where a fresh compile puts them (${dialect})`, () => {
      const db = compilerOnly(dialect);
      const template = upsertTemplate(db);
      const rows: Array<[string, number]> = [
        ['A', 1],
        ['B', 2],
        ['C', 3],
      ];
      template.bind(['first-batch'], [['X', 9], ['Y', 8], ['Z', 7]]);
      const bound = template.bind(['b-7'], rows);
      const fresh = db
        .insertInto('item')
        .values(rows.map(([sku, quantity]) => ({ batch: 'b-7', sku, quantity, status: 'pending' })))
        .onConflict((oc) => oc.columns(['batch', 'sku']).doUpdateSet((eb) => ({ quantity: eb.ref('excluded.quantity') })).where('item.status', '=', 'pending'))
        .compile();
      expect(bound.sql).toBe(fresh.sql);
      expect(bound.parameters).toEqual(fresh.parameters);
    });
  }

  it('compiles once per row count', () => {
    const db = compilerOnly('sqlite');
    const template = upsertTemplate(db);
    const first = template.bind(['b'], [['A', 1]]);
    const second = template.bind(['c'], [['B', 2]]);
    expect(second.sql).toBe(first.sql);
    expect(second.query).toBe(first.query);
    expect(second.parameters).toEqual(['c', 'B', 2, 'pending', 'pending']);
  });

  it('refuses a statement that does not bind every value', () => {
    const db = compilerOnly('sqlite');
    const template = new StatementTemplate({ args: 1, columns: 1 }, (_args: [string], rows: ReadonlyArray<[string]>) =>
      db.selectFrom('item').select('sku').where('sku', 'in', rows.map(([sku]) => sku)),
    );
    expect(() => template.bind(['unused'], [['A']])).toThrow(
      'statement template: 1 of 2 values are not bound parameters in: select "sku" from "item" where "sku" in (?)',
    );
  });
});

describe('templateChunks', () => {
  it('sends full chunks, then the rest in descending powers of two', () => {
    const sizes = [...templateChunks(Array.from({ length: 64 * 2 + 37 }, (_, i) => i), 64)].map((chunk) => chunk.length);
    expect(sizes).toEqual([64, 64, 32, 4, 1]);
  });

  it('keeps every row once, in order, in at most log2(chunk) + 1 distinct sizes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 600 }), fc.constantFrom(1, 8, 64), (rows, chunkRows) => {
        const chunks = [...templateChunks(rows, chunkRows)];
        expect(chunks.flat()).toEqual(rows);
        for (const chunk of chunks) {
          expect(chunk.length).toBeGreaterThan(0);
          expect(chunk.length & (chunk.length - 1)).toBe(0);
          expect(chunk.length).toBeLessThanOrEqual(chunkRows);
        }
      }),
    );
  });
});

describe('paddedKeyLists', () => {
  it('drops duplicates and pads each list with its last key to a power of two', () => {
    expect([...paddedKeyLists(['a', 'b', 'a', 'c', 'd', 'e', 'f'], 4)]).toEqual([
      ['a', 'b', 'c', 'd'],
      ['e', 'f'],
    ]);
    expect([...paddedKeyLists(['a', 'b', 'c'], 4)]).toEqual([['a', 'b', 'c', 'c']]);
    expect([...paddedKeyLists([], 4)]).toEqual([]);
  });

  it('covers exactly the unique keys', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 300 }), (keys) => {
        const lists = [...paddedKeyLists(keys, 64)];
        expect(new Set(lists.flat())).toEqual(new Set(keys));
        for (const list of lists) expect(list.length & (list.length - 1)).toBe(0);
      }),
    );
  });
});
