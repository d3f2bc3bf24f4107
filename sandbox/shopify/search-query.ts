/**
 * The part of Shopify's search syntax (https://shopify.dev/docs/api/usage/search-syntax) that
 * `productVariants(query:)` needs for a stock push: `sku:VALUE` terms joined with `OR`, values
 * optionally double-quoted with backslash escapes (`sku:"A B"`, `sku:"say \"hi\""`).
 *
 * Anything else is rejected with an error naming the term instead of being silently ignored:
 * real Shopify ignores unknown filters and returns *everything*, which a simulator must not
 * imitate quietly, or a connector bug would pass the sandbox and page through a whole catalog
 * in production.
 */
import { GraphQLError } from 'graphql';

/** The SKUs a query asks for; `undefined` means the query does not filter (empty or absent). */
export type SkuFilter = ReadonlySet<string> | undefined;

const SUPPORTED = 'the simulator supports only sku:VALUE terms joined with OR';

function unsupported(term: string): GraphQLError {
  return new GraphQLError(`Unsupported search term '${term}' in productVariants query: ${SUPPORTED}.`, {
    extensions: { code: 'SIMULATOR_UNSUPPORTED_SEARCH_SYNTAX' },
  });
}

interface Token {
  /** The token as written, for error messages. */
  raw: string;
  /** For quoted values, the unescaped text; otherwise the raw text. */
  text: string;
  quoted: boolean;
}

/** Splits on whitespace outside double quotes; `sku:"A B"` stays one token. */
function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    if (/\s/.test(query[i]!)) {
      i++;
      continue;
    }
    const start = i;
    let text = '';
    let quoted = false;
    while (i < query.length && !/\s/.test(query[i]!)) {
      const char = query[i]!;
      if (char !== '"') {
        text += char;
        i++;
        continue;
      }
      quoted = true;
      i++;
      let closed = false;
      while (i < query.length) {
        const inner = query[i]!;
        if (inner === '\\' && i + 1 < query.length) {
          text += query[i + 1]!;
          i += 2;
        } else if (inner === '"') {
          closed = true;
          i++;
          break;
        } else {
          text += inner;
          i++;
        }
      }
      if (!closed) {
        throw new GraphQLError(`Unterminated quoted value in productVariants query: ${query.slice(start)}`, {
          extensions: { code: 'SIMULATOR_UNSUPPORTED_SEARCH_SYNTAX' },
        });
      }
    }
    tokens.push({ raw: query.slice(start, i), text, quoted });
  }
  return tokens;
}

/**
 * Parses `query` into the set of SKUs it matches. Throws a GraphQL error naming the first
 * unsupported term (other fields, AND/NOT, implicit AND, parentheses, wildcards, ranges).
 */
export function parseSkuQuery(query: string | null | undefined): SkuFilter {
  if (query === null || query === undefined || query.trim() === '') return undefined;
  const tokens = tokenize(query);
  const skus = new Set<string>();
  tokens.forEach((token, index) => {
    const expectTerm = index % 2 === 0;
    if (!expectTerm) {
      if (token.raw !== 'OR') throw unsupported(token.raw);
      if (index === tokens.length - 1) throw unsupported(`${token.raw} (nothing after it)`);
      return;
    }
    if (!token.raw.startsWith('sku:')) throw unsupported(token.raw);
    // The value is everything after "sku:", unescaped if it was quoted.
    const value = token.text.slice('sku:'.length);
    const rawValue = token.raw.slice('sku:'.length);
    if (value === '') throw unsupported(token.raw);
    const quotedWholeValue = rawValue.startsWith('"') && rawValue.endsWith('"');
    if (token.quoted && !quotedWholeValue) throw unsupported(token.raw);
    if (!token.quoted && /[*()<>=]/.test(value)) throw unsupported(token.raw);
    skus.add(value.toLowerCase());
  });
  return skus;
}

/** Shopify's search is case-insensitive; the simulator matches whole SKUs, never prefixes. */
export function skuMatches(filter: SkuFilter, sku: string | null): boolean {
  if (filter === undefined) return true;
  return sku !== null && filter.has(sku.toLowerCase());
}
