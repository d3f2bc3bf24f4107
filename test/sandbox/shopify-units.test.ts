/**
 * Pure parts of the Shopify simulator: leaky bucket on an injected clock, query cost, search
 * syntax, keyset pagination, idempotency retention, seeded faults, root fields' admission.
 */
import { getOperationAST, Kind, parse, type FragmentDefinitionNode, type GraphQLObjectType, type GraphQLResolveInfo } from 'graphql';
import { describe, expect, it } from 'vitest';
import { actualQueryCost, requestedQueryCost, type CostInput } from '../../sandbox/shopify/cost';
import { applyFaultPatch, DEFAULT_FAULTS, FaultInjector } from '../../sandbox/shopify/faults';
import { canonicalJson, IdempotencyCache, IDEMPOTENCY_RETENTION_MS, requestFingerprint, storedFingerprint } from '../../sandbox/shopify/idempotency';
import { decodeCursor, encodeCursor, paginate } from '../../sandbox/shopify/pagination';
import { buildShopifySchema, type ResolverContext } from '../../sandbox/shopify/schema';
import { type SimulatorStore } from '../../sandbox/shopify/store';
import { parseSkuQuery, skuMatches } from '../../sandbox/shopify/search-query';
import { LeakyBucket } from '../../sandbox/shopify/throttle';

describe('LeakyBucket', () => {
  function bucketAt(capacity: number, restoreRate: number): { bucket: LeakyBucket; advance: (ms: number) => void } {
    let now = 1_000_000;
    const bucket = new LeakyBucket({ capacity, restoreRate, now: () => now });
    return { bucket, advance: (ms) => (now += ms) };
  }

  it('starts full, refuses a cost above what is available, and changes nothing when refusing', () => {
    const { bucket } = bucketAt(1000, 100);
    expect(bucket.tryTake(600)).toBe(true);
    expect(bucket.tryTake(401)).toBe(false);
    expect(bucket.currentlyAvailable()).toBe(400);
    expect(bucket.tryTake(400)).toBe(true);
    expect(bucket.status()).toEqual({ maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 100 });
  });

  it('restores continuously at restoreRate up to capacity', () => {
    const { bucket, advance } = bucketAt(1000, 100);
    bucket.tryTake(1000);
    advance(250);
    expect(bucket.currentlyAvailable()).toBe(25);
    expect(bucket.tryTake(26)).toBe(false);
    advance(10);
    expect(bucket.tryTake(26)).toBe(true);
    advance(60_000);
    expect(bucket.currentlyAvailable()).toBe(1000);
  });

  it('refunds unused points without exceeding capacity, and ignores a clock going backwards', () => {
    const { bucket, advance } = bucketAt(10, 1);
    bucket.tryTake(7);
    bucket.refund(3);
    expect(bucket.currentlyAvailable()).toBe(6);
    bucket.refund(100);
    expect(bucket.currentlyAvailable()).toBe(10);
    bucket.tryTake(10);
    advance(-5_000);
    expect(bucket.currentlyAvailable()).toBe(0);
    advance(1_000);
    expect(bucket.currentlyAvailable()).toBe(1);
  });
});

describe('query cost', () => {
  const schema = buildShopifySchema();

  function costInput(query: string, variables: Record<string, unknown> = {}): CostInput {
    const document = parse(query);
    const operation = getOperationAST(document);
    if (!operation) throw new Error('no operation');
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    }
    return { schema, operation, fragments, variables };
  }

  it('charges objects 1, scalars 0, connections 2 + first × node cost', () => {
    expect(requestedQueryCost(costInput('{ shop { id name } }'))).toBe(1);
    expect(requestedQueryCost(costInput('{ locations(first: 10) { nodes { id } pageInfo { hasNextPage } } }'))).toBe(12);
    // node: variant 1 + inventoryItem 1 + levels (2 + 3 × (1 + location 1 + quantities 1))
    expect(
      requestedQueryCost(
        costInput(`query($n: Int) { productVariants(first: $n) { edges { node { id inventoryItem { inventoryLevels(first: 3) {
          nodes { location { id } quantities(names: ["available"]) { quantity } } } } } } } }`, { n: 4 }),
      ),
    ).toBe(2 + 4 * (1 + 1 + 2 + 3 * 3));
  });

  it('merges fields under one response key, follows fragments and honours @skip', () => {
    const query = `query($skip: Boolean!) {
      shop { id } shop { name }
      ...Locations
      other: locations(first: 3) @skip(if: $skip) { nodes { id } }
    }
    fragment Locations on Query { locations(first: 5) { nodes { id } } }`;
    expect(requestedQueryCost(costInput(query, { skip: true }))).toBe(1 + 7);
    expect(requestedQueryCost(costInput(query, { skip: false }))).toBe(1 + 7 + 5);
  });

  it('charges a mutation 10, its payload objects included', () => {
    const mutation = `mutation { inventorySetQuantities(input: { name: "available", reason: "correction", quantities: [] }) {
      inventoryAdjustmentGroup { id changes { item { id } location { id } } } userErrors { code } } }`;
    expect(requestedQueryCost(costInput(mutation))).toBe(10);
    expect(actualQueryCost(costInput(mutation), { inventorySetQuantities: null })).toBe(10);
  });

  it('counts returned nodes for the actual cost', () => {
    const input = costInput('{ locations(first: 50) { edges { node { id } } nodes { name } } }');
    expect(requestedQueryCost(input)).toBe(2 + 50);
    const data = { locations: { edges: [{ node: { id: 'a' } }, { node: { id: 'b' } }], nodes: [{ name: 'A' }, { name: 'B' }] } };
    expect(actualQueryCost(input, data)).toBe(2 + 2);
    expect(actualQueryCost(input, { locations: null })).toBe(2);
  });
});

describe('sku search syntax', () => {
  it('parses sku terms joined with OR, quoted values with escapes, case-insensitively', () => {
    const filter = parseSkuQuery('sku:PL-1 OR sku:"A B" OR sku:"say \\"hi\\""');
    expect([...(filter ?? [])]).toEqual(['pl-1', 'a b', 'say "hi"']);
    expect(skuMatches(filter, 'PL-1')).toBe(true);
    expect(skuMatches(filter, 'PL-10')).toBe(false);
    expect(skuMatches(filter, null)).toBe(false);
    expect(parseSkuQuery('   ')).toBeUndefined();
    expect(skuMatches(undefined, null)).toBe(true);
  });

  it.each([
    ['title:Kubek', 'title:Kubek'],
    ['sku:A AND sku:B', 'AND'],
    ['sku:A sku:B', 'sku:B'],
    ['sku:A or sku:B', 'or'],
    ['sku:PL-*', 'sku:PL-*'],
    ['(sku:A OR sku:B)', '(sku:A'],
    ['-sku:A', '-sku:A'],
    ['sku:', 'sku:'],
  ])('rejects %s naming %s', (query, term) => {
    expect(() => parseSkuQuery(query)).toThrow(
      `Unsupported search term '${term}' in productVariants query: the simulator supports only sku:VALUE terms joined with OR.`,
    );
  });

  it('rejects a dangling OR and an unterminated quote', () => {
    expect(() => parseSkuQuery('sku:A OR')).toThrow("Unsupported search term 'OR (nothing after it)'");
    expect(() => parseSkuQuery('sku:"A B')).toThrow('Unterminated quoted value in productVariants query: sku:"A B');
  });
});

describe('keyset pagination', () => {
  const records = (ids: number[]) => ids.map((legacyId) => ({ legacyId }));

  it('continues after the last id even when records before it disappear or appear', () => {
    const first = paginate(records([1, 2, 3, 4, 5]), { first: 2 });
    expect(first.nodes.map((n) => n.legacyId)).toEqual([1, 2]);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    // Record 1 was deleted and 0 inserted: an offset-based page 2 would skip record 3.
    const second = paginate(records([0, 2, 3, 4, 5]), { first: 2, after: first.pageInfo.endCursor });
    expect(second.nodes.map((n) => n.legacyId)).toEqual([3, 4]);
    const last = paginate(records([0, 2, 3, 4, 5]), { first: 2, after: second.pageInfo.endCursor });
    expect(last.nodes.map((n) => n.legacyId)).toEqual([5]);
    expect(last.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  it('validates first and cursors', () => {
    expect(() => paginate([], {})).toThrow('You must provide one of first or last.');
    expect(() => paginate([], { first: 251 })).toThrow('The first argument must be at most 250');
    expect(() => paginate([], { first: -1 })).toThrow('The first argument must be at least 0');
    expect(() => decodeCursor('bm90IGpzb24=')).toThrow('Invalid cursor: "bm90IGpzb24="');
    expect(decodeCursor(encodeCursor(42))).toBe(42);
  });
});

describe('idempotency cache', () => {
  it('replays the same fingerprint, refuses another one, and forgets after 24 h', () => {
    let now = 0;
    const cache = new IdempotencyCache<string>(() => now);
    expect(cache.lookup('k', 'f1')).toEqual({ kind: 'first-use' });
    cache.remember('k', 'f1', 'result');
    expect(cache.lookup('k', 'f1')).toEqual({ kind: 'replay', result: 'result' });
    expect(cache.lookup('k', 'f2')).toEqual({ kind: 'parameter-mismatch' });
    now += IDEMPOTENCY_RETENTION_MS - 1;
    expect(cache.lookup('k', 'f1').kind).toBe('replay');
    now += 1;
    expect(cache.lookup('k', 'f1')).toEqual({ kind: 'first-use' });
    expect(cache.size).toBe(0);
  });

  it('fingerprints ignore key order but tell omitted from null', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(canonicalJson({ a: [{ x: 1, y: 2 }], b: 1 }));
    expect(canonicalJson({ a: 1, changeFromQuantity: null })).not.toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ a: 1, changeFromQuantity: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('fingerprints are digests of the canonical JSON, which older state files hold as it is', () => {
    const parameters = { mutation: 'inventorySetQuantities', input: { quantities: [{ quantity: 1, changeFromQuantity: null }], name: 'available' } };
    const fingerprint = requestFingerprint(parameters);
    expect(fingerprint).toMatch(/^sha256:[A-Za-z0-9+/]{43}=$/);
    expect(requestFingerprint({ input: { name: 'available', quantities: [{ changeFromQuantity: null, quantity: 1 }] }, mutation: 'inventorySetQuantities' })).toBe(fingerprint);
    expect(requestFingerprint({ ...parameters, input: { ...parameters.input, quantities: [{ quantity: 1 }] } })).not.toBe(fingerprint);
    expect(storedFingerprint(fingerprint)).toBe(fingerprint);
    expect(storedFingerprint(canonicalJson(parameters))).toBe(fingerprint);
  });
});

describe('admission', () => {
  it('every root field admits the request before it resolves, fields without a resolver of their own included', () => {
    const schema = buildShopifySchema();
    const refused = new Error('refused');
    const admitted: string[] = [];
    const context: ResolverContext = {
      store: {} as SimulatorStore,
      apiVersion: '2026-04',
      admit: (info) => {
        admitted.push(info.fieldName);
        throw refused;
      },
    };
    const rootTypes = [schema.getQueryType(), schema.getMutationType()].filter((type): type is GraphQLObjectType => type !== null && type !== undefined);
    const rootFields = rootTypes.flatMap((type) => Object.values(type.getFields()));
    expect(rootFields.map((field) => field.name)).toEqual(['shop', 'locations', 'productVariants', 'inventoryItem', 'inventorySetQuantities', 'productVariantsBulkUpdate']);
    for (const field of rootFields) {
      expect(() => field.resolve!(undefined, {}, context, { fieldName: field.name } as GraphQLResolveInfo)).toThrow(refused);
    }
    expect(admitted).toEqual(rootFields.map((field) => field.name));
  });
});

describe('fault injection', () => {
  it('is deterministic for a seed and honours the rates', () => {
    const config = { serverErrorRate: 0.2, tooManyRequestsRate: 0.1, dropConnectionRate: 0.05 };
    function sequence(seed: number): string[] {
      const injector = new FaultInjector(config, seed);
      return Array.from({ length: 2000 }, () => injector.decide().kind);
    }
    expect(sequence(7)).toEqual(sequence(7));
    expect(sequence(7)).not.toEqual(sequence(8));
    const kinds = sequence(3);
    const share = (kind: string) => kinds.filter((k) => k === kind).length / kinds.length;
    expect(share('serverError')).toBeCloseTo(0.2, 1);
    expect(share('tooManyRequests')).toBeCloseTo(0.1, 1);
    expect(share('dropConnection')).toBeCloseTo(0.05, 1);
    expect(share('none')).toBeCloseTo(0.65, 1);
  });

  it('rejects invalid patches with precise messages and keeps the config', () => {
    const injector = new FaultInjector();
    expect(() => injector.update({ latencyMs: -1 })).toThrow('latencyMs: Too small: expected number to be >=0');
    expect(() => injector.update({ timeoutRate: 'high' })).toThrow('timeoutRate: Invalid input: expected number, received string');
    expect(injector.current).toEqual(DEFAULT_FAULTS);
    expect(applyFaultPatch(DEFAULT_FAULTS, { timeoutRate: 0.5, applyThenFailRate: 0.5 })).toMatchObject({ timeoutRate: 0.5, applyThenFailRate: 0.5 });
  });
});
