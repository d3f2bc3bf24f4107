/**
 * Relay cursor pagination as Shopify does it: keyset on the record's numeric id, never on its
 * position, so inserting or deleting records between two page requests neither skips nor repeats
 * anything. Cursors are opaque base64 of `{"last_id":N,"last_value":"N"}`, the shape Shopify's
 * own cursors decode to.
 */
import { GraphQLError } from 'graphql';

/** Shopify's page size limit for every connection. */
export const MAX_PAGE_SIZE = 250;

/** Anything paginated: records are sorted by this id, ascending. */
export interface Keyed {
  legacyId: number;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export function encodeCursor(legacyId: number): string {
  return Buffer.from(JSON.stringify({ last_id: legacyId, last_value: String(legacyId) }), 'utf8').toString('base64');
}

/** Returns the id the cursor points after; throws the GraphQL error the client sees otherwise. */
export function decodeCursor(cursor: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const lastId = typeof parsed === 'object' && parsed !== null ? (parsed as { last_id?: unknown }).last_id : undefined;
  if (typeof lastId !== 'number' || !Number.isSafeInteger(lastId)) {
    // Simulator's wording; Shopify also rejects cursors it did not issue.
    throw new GraphQLError(`Invalid cursor: ${JSON.stringify(cursor)}`);
  }
  return lastId;
}

/**
 * Checks `first` the way every Shopify connection does. Messages are the simulator's wording
 * (kept short and asserted in tests); Shopify's own texts differ slightly between versions.
 */
export function validatedPageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) throw new GraphQLError('You must provide one of first or last.');
  if (first < 0) throw new GraphQLError('The first argument must be at least 0');
  if (first > MAX_PAGE_SIZE) throw new GraphQLError(`The first argument must be at most ${MAX_PAGE_SIZE}`);
  return first;
}

/** Index of the first record with legacyId > id in an ascending array (binary search). */
function indexAfter(sorted: readonly Keyed[], id: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]!.legacyId <= id) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** One page of `sorted` (ascending by legacyId, already filtered) after the cursor. */
export function paginate<T extends Keyed>(sorted: readonly T[], args: PageArgs): Connection<T> {
  const size = validatedPageSize(args.first);
  const start = args.after === null || args.after === undefined ? 0 : indexAfter(sorted, decodeCursor(args.after));
  const page = sorted.slice(start, start + size);
  const edges = page.map((node) => ({ cursor: encodeCursor(node.legacyId), node }));
  return {
    edges,
    nodes: page,
    pageInfo: {
      hasNextPage: start + page.length < sorted.length,
      hasPreviousPage: start > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
