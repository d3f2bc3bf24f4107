/**
 * Multi-row statements compiled by Kysely once per row count, then only re-bound with values.
 *
 * Why: the stock path writes and looks up hundreds of thousands of rows per run in statements of
 * dozens of rows each. Building such a statement through Kysely's query builder and compiling it
 * cost more CPU than executing it, and each new SQL text had to be prepared again by the
 * database. A template keeps one SQL text per (statement, row count), so the query is built once
 * and the SQLite connection's statement cache (database.ts) prepares it once; the statement stays
 * written with the query builder, so it is still one code path for SQLite and PostgreSQL, with
 * the dialect's placeholders, quoting and schema plugin applied by Kysely as usual.
 *
 * How the values find their places: the template is compiled once with a probe object in every
 * value position; the compiled parameter list then says, for each placeholder, which row and
 * column it takes, or that it is a constant of the query itself (e.g. a literal in a WHERE).
 *
 * Row counts are bounded: rows are sent in full chunks of `chunkRows`, and the rest as a binary
 * decomposition (e.g. 37 = 32 + 4 + 1), so at most log2(chunkRows) + 1 texts exist per
 * statement. Key lists (IN) are padded instead, by repeating their last key up to the next power
 * of two, which changes nothing about the rows they match.
 */
import type { CompiledQuery, Compilable } from 'kysely';

/** A value position: an argument (row -1, column = argument index) or a row's column. */
class Probe {
  constructor(
    readonly row: number,
    readonly column: number,
  ) {}
}

type Slot = { kind: 'bound'; row: number; column: number } | { kind: 'constant'; value: unknown };

/** The argument row's index in a Probe. */
const ARGUMENTS = -1;

interface CompiledTemplate<Result> {
  compiled: CompiledQuery<Result>;
  slots: Slot[];
}

/**
 * One statement over a few arguments (e.g. a target id) and rows of `columns` values each (a
 * multi-row upsert, or an IN list of one column). `build` receives probes in place of both and
 * must put every one of them into the query as a bound value, never as SQL text; values it
 * takes from anywhere else become constants of the template, so it must close over nothing that
 * changes between calls.
 */
export class StatementTemplate<Args extends readonly unknown[], Row extends readonly unknown[], Result = unknown> {
  private readonly byRowCount = new Map<number, CompiledTemplate<Result>>();

  constructor(
    private readonly shape: { args: number; columns: number },
    private readonly build: (args: Args, rows: readonly Row[]) => Compilable<Result>,
  ) {}

  /** The statement for these arguments and exactly these rows, ready for `executeQuery`. */
  bind(args: Args, rows: readonly Row[]): CompiledQuery<Result> {
    const template = this.templateFor(rows.length);
    const parameters = template.slots.map((slot) => {
      if (slot.kind === 'constant') return slot.value;
      return slot.row === ARGUMENTS ? args[slot.column] : rows[slot.row]![slot.column];
    });
    return { ...template.compiled, parameters };
  }

  private templateFor(rowCount: number): CompiledTemplate<Result> {
    const cached = this.byRowCount.get(rowCount);
    if (cached) return cached;
    const { args, columns } = this.shape;
    const argProbes = Array.from({ length: args }, (_, column) => new Probe(ARGUMENTS, column)) as unknown as Args;
    const rowProbes = Array.from({ length: rowCount }, (_, row) => Array.from({ length: columns }, (_, column) => new Probe(row, column)) as unknown as Row);
    const compiled = this.build(argProbes, rowProbes).compile();
    const slots: Slot[] = compiled.parameters.map((parameter) =>
      parameter instanceof Probe ? { kind: 'bound', row: parameter.row, column: parameter.column } : { kind: 'constant', value: parameter },
    );
    const bound = new Set(slots.flatMap((slot) => (slot.kind === 'bound' ? [`${slot.row}:${slot.column}`] : [])));
    const expected = args + rowCount * columns;
    if (bound.size !== expected) {
      // A value the builder turned into SQL text (or dropped) would be silently wrong for every
      // later call: refuse the template instead.
      throw new Error(`statement template: ${expected - bound.size} of ${expected} values are not bound parameters in: ${compiled.sql}`);
    }
    const template = { compiled, slots };
    this.byRowCount.set(rowCount, template);
    return template;
  }
}

/**
 * Splits rows into statement-sized parts: full chunks of `chunkRows` (a power of two), then the
 * rest in descending powers of two, so only a few row counts ever occur.
 */
export function* templateChunks<T>(rows: readonly T[], chunkRows: number): Generator<T[]> {
  let start = 0;
  for (; start + chunkRows <= rows.length; start += chunkRows) yield rows.slice(start, start + chunkRows);
  for (let size = chunkRows >> 1; size >= 1; size >>= 1) {
    if (rows.length - start >= size) {
      yield rows.slice(start, start + size);
      start += size;
    }
  }
}

/**
 * Splits keys into IN lists of at most `chunkKeys` (a power of two), each padded by repeating
 * its last key up to the next power of two. Duplicates are dropped first.
 */
export function* paddedKeyLists<T>(keys: readonly T[], chunkKeys: number): Generator<T[]> {
  const unique = [...new Set(keys)];
  for (let start = 0; start < unique.length; start += chunkKeys) {
    const list = unique.slice(start, start + chunkKeys);
    let size = 1;
    while (size < list.length) size <<= 1;
    while (list.length < size) list.push(list[list.length - 1]!);
    yield list;
  }
}
