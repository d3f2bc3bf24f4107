/**
 * The Shopify simulator over real HTTP: auth, error bodies, cost and throttling, inventory
 * mutation semantics (atomicity, compare-and-swap, idempotency), search and pagination, faults.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_SHOPIFY_LOCATIONS } from '../../sandbox/demo-catalog';
import type { ShopifySimulator } from '../../sandbox/shopify/server';
import { postToSimulator, SIMULATOR_TOKEN, simulatorGraphql, simulatorsClosedAfterEach, type Json } from '../support/shopify-simulator';

const TOKEN = SIMULATOR_TOKEN;
const [WAREHOUSE, STORE] = DEMO_SHOPIFY_LOCATIONS.map((location) => location.id) as [string, string];

const start = simulatorsClosedAfterEach();
const post = postToSimulator;
const graphql = simulatorGraphql;

async function sandboxGet(simulator: ShopifySimulator, path: string): Promise<Json> {
  const response = await fetch(`${simulator.url}${path}`, { headers: { 'x-shopify-access-token': TOKEN } });
  expect(response.status).toBe(200);
  return response.json();
}

function itemId(sku: string, simulator: ShopifySimulator): string {
  const variant = simulator.store.variantBySku(sku);
  if (!variant) throw new Error(`no variant ${sku}`);
  return variant.inventoryItemId;
}

const SET_QUANTITIES = /* GraphQL */ `
  mutation SetQuantities($input: InventorySetQuantitiesInput!, $key: String!) {
    inventorySetQuantities(input: $input) @idempotent(key: $key) {
      inventoryAdjustmentGroup {
        id
        reason
        changes { name delta quantityAfterChange item { sku } location { id } }
      }
      userErrors { code field message }
    }
  }
`;

interface Line {
  inventoryItemId: string;
  locationId: string;
  quantity: number;
  changeFromQuantity?: number | null;
}

function setInput(quantities: Line[]): Record<string, unknown> {
  return { name: 'available', reason: 'correction', referenceDocumentUri: 'gid://omnisync/StockPush/1', quantities };
}

describe('endpoint and auth', () => {
  it('answers 401 with Shopify body for a missing or wrong token', async () => {
    const simulator = await start();
    for (const token of [null, 'wrong']) {
      const response = await post(simulator, { query: '{ shop { id } }' }, { token });
      expect(response.status).toBe(401);
      expect(await response.text()).toBe('{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}');
    }
    expect(simulator.store.stats().requests).toBe(0);
  });

  it('answers 404 for unknown versions and paths, 400 for a non-JSON body', async () => {
    const simulator = await start();
    const unknownVersion = await post(simulator, { query: '{ shop { id } }' }, { version: '2023-01' });
    expect(unknownVersion.status).toBe(404);
    expect(await unknownVersion.text()).toBe('{"errors":"Not Found"}');
    const unknownPath = await fetch(`${simulator.url}/admin/api/2026-04/products.json`, { headers: { 'x-shopify-access-token': TOKEN } });
    expect(unknownPath.status).toBe(404);
    const notJson = await post(simulator, 'query { shop { id } }');
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toBe('{"errors":{"query":"Required parameter missing or invalid"}}');
  });

  it('validates against the schema with Shopify wording, HTTP 200 and a cost extension', async () => {
    const simulator = await start();
    const body = await graphql(simulator, '{ shop { id nickname } }');
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].message).toBe("Field 'nickname' doesn't exist on type 'Shop'");
    expect(body.errors[0].extensions).toEqual({ code: 'undefinedField', typeName: 'Shop', fieldName: 'nickname' });
    expect(body.extensions.cost).toMatchObject({ requestedQueryCost: 0, actualQueryCost: null });
  });

  it('answers a query text it has seen before (parsed and validated once) exactly as the first time', async () => {
    const simulator = await start();
    const invalid = '{ shop { id nickname } }';
    const [firstInvalid, secondInvalid] = [await graphql(simulator, invalid), await graphql(simulator, invalid)];
    expect(secondInvalid.errors).toEqual(firstInvalid.errors);
    const unparsable = '{ shop { id }';
    const [firstUnparsable, secondUnparsable] = [await graphql(simulator, unparsable), await graphql(simulator, unparsable)];
    expect(firstUnparsable.errors[0].message).toBe('Syntax Error: Expected Name, found <EOF>.');
    expect(secondUnparsable.errors).toEqual(firstUnparsable.errors);
    const valid = '{ shop { name } }';
    expect((await graphql(simulator, valid)).data.shop.name).toBe('omnisync demo');
    expect((await graphql(simulator, valid)).data.shop.name).toBe('omnisync demo');
  });

  it('serves the shop', async () => {
    const simulator = await start();
    const body = await graphql(simulator, '{ shop { name myshopifyDomain } }');
    expect(body.data.shop).toEqual({ name: 'omnisync demo', myshopifyDomain: 'omnisync-demo.myshopify.com' });
  });
});

describe('cost and throttling', () => {
  it('reports requested and actual cost of a connection query', async () => {
    // A negligible restore rate makes currentlyAvailable exact.
    const simulator = await start({ restoreRate: 0.001, bucketSize: 1000 });
    const body = await graphql(simulator, '{ locations(first: 5) { nodes { id name } } }');
    expect(body.data.locations.nodes).toHaveLength(2);
    // 2 + 5 requested nodes; 2 + 2 returned nodes; 1000 - 7 + (7 - 4) refunded.
    expect(body.extensions.cost).toEqual({
      requestedQueryCost: 7,
      actualQueryCost: 4,
      throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 996, restoreRate: 0.001 },
    });
  });

  it('rejects a single query above 1000 points with MAX_COST_EXCEEDED', async () => {
    const simulator = await start();
    const body = await graphql(simulator, '{ productVariants(first: 250) { nodes { id inventoryItem { inventoryLevels(first: 10) { nodes { id } } } } } }');
    // 2 + 250 × (1 + inventoryItem 1 + levels (2 + 10 × 1)) = 3502
    expect(body.errors).toEqual([
      {
        message: 'Query cost is 3502, which exceeds the single query max cost limit (1000).',
        extensions: { code: 'MAX_COST_EXCEEDED', cost: 3502, maxCost: 1000 },
      },
    ]);
    expect(body.extensions.cost.actualQueryCost).toBeNull();
  });

  it('answers THROTTLED when the bucket is drained and admits again once it restores', async () => {
    const simulator = await start({ restoreRate: 2, bucketSize: 10 });
    const query = '{ locations(first: 5) { nodes { id } } }'; // requested 7, actual 4
    const first = await graphql(simulator, query);
    expect(first.extensions.cost.throttleStatus.currentlyAvailable).toBe(6);

    const throttled = await graphql(simulator, query);
    expect(throttled).toEqual({
      errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
      extensions: {
        cost: { requestedQueryCost: 7, actualQueryCost: null, throttleStatus: { maximumAvailable: 10, currentlyAvailable: 6, restoreRate: 2 } },
      },
    });
    expect(simulator.store.stats().throttled).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 600)); // +1.2 points at 2 points/s
    const admitted = await graphql(simulator, query);
    expect(admitted.data.locations.nodes).toHaveLength(2);
  });

  it('reports every variable that fails to coerce, verbatim, and charges nothing', async () => {
    const simulator = await start({ restoreRate: 0.001, bucketSize: 1000 });
    const item = itemId('PL-000001', simulator);
    // More than 50 bad values: every one is reported, not only the first 50.
    const quantities = Array.from({ length: 60 }, (_, index) => ({ inventoryItemId: item, locationId: WAREHOUSE, quantity: `x${index}`, changeFromQuantity: null }));
    const body = await graphql(simulator, SET_QUANTITIES, { key: 'k-coerce', input: { ...setInput([]), quantities } });
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(60);
    expect(body.errors[59]).toEqual({
      message: 'Variable "$input" got invalid value "x59" at "input.quantities[59].quantity"; Int cannot represent non-integer value: "x59"',
      locations: [{ line: 2, column: 26 }],
    });
    expect(body.extensions.cost).toEqual({
      requestedQueryCost: 0,
      actualQueryCost: null,
      throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 1000, restoreRate: 0.001 },
    });
  });

  it('refuses a request before any of its root fields resolves', async () => {
    const simulator = await start({ restoreRate: 0.001, bucketSize: 15 });
    // Introspection alone costs nothing and is answered.
    expect(await graphql(simulator, '{ __typename }')).toEqual({
      data: { __typename: 'Query' },
      extensions: { cost: { requestedQueryCost: 0, actualQueryCost: 0, throttleStatus: { maximumAvailable: 15, currentlyAvailable: 15, restoreRate: 0.001 } } },
    });
    // shop 1 + productVariants 2 + 250 × 14: over the single query max, so not even shop resolves.
    const tooCostly = await graphql(simulator, '{ shop { id } __typename productVariants(first: 250) { nodes { id inventoryItem { inventoryLevels(first: 10) { nodes { id } } } } } }');
    expect(tooCostly.data).toBeUndefined();
    expect(tooCostly.errors.map((error: Json) => error.extensions.code)).toEqual(['MAX_COST_EXCEEDED']);
    expect(tooCostly.extensions.cost).toMatchObject({ requestedQueryCost: 3503, actualQueryCost: null });
    // Two mutations cost 20 of the 15 points available: THROTTLED, and neither writes.
    const line = (sku: string): string =>
      `{ name: "available", reason: "correction", quantities: [{ inventoryItemId: "${itemId(sku, simulator)}", locationId: "${WAREHOUSE}", quantity: 3, changeFromQuantity: null }] }`;
    const twoMutations = `mutation {
      a: inventorySetQuantities(input: ${line('PL-000001')}) @idempotent(key: "k-a") { userErrors { code } }
      b: inventorySetQuantities(input: ${line('PL-000002')}) @idempotent(key: "k-b") { userErrors { code } }
    }`;
    const throttled = await graphql(simulator, twoMutations);
    expect(throttled.data).toBeUndefined();
    expect(throttled.errors.map((error: Json) => error.extensions.code)).toEqual(['THROTTLED']);
    expect(throttled.extensions.cost).toMatchObject({ requestedQueryCost: 20, actualQueryCost: null });
    expect([simulator.store.availableOf('PL-000001', WAREHOUSE), simulator.store.availableOf('PL-000002', WAREHOUSE)]).toEqual([0, 0]);
    expect(simulator.store.stats()).toMatchObject({ throttled: 1, mutationsApplied: 0 });
  });
});

describe('inventorySetQuantities', () => {
  it('refuses more than 250 quantities with MAX_INPUT_SIZE_EXCEEDED and applies nothing', async () => {
    const simulator = await start();
    const line = { inventoryItemId: itemId('PL-000001', simulator), locationId: WAREHOUSE, quantity: 5, changeFromQuantity: null };
    const body = await graphql(simulator, SET_QUANTITIES, { input: setInput(Array.from({ length: 251 }, () => line)), key: 'k-251' });
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].message).toBe('The input array size of 251 is greater than the maximum allowed of 250.');
    expect(body.errors[0].extensions).toEqual({ code: 'MAX_INPUT_SIZE_EXCEEDED' });
    expect(body.errors[0].path).toEqual(['inventorySetQuantities', 'input', 'quantities']);
    expect(simulator.store.availableOf('PL-000001', WAREHOUSE)).toBe(0);
    expect(simulator.store.stats()).toMatchObject({ mutationsApplied: 0, writesBySku: {} });
  });

  it('is atomic: one unknown inventory item fails the call and writes nothing', async () => {
    const simulator = await start();
    const body = await graphql(simulator, SET_QUANTITIES, {
      key: 'k-atomic',
      input: setInput([
        { inventoryItemId: itemId('PL-000001', simulator), locationId: WAREHOUSE, quantity: 5, changeFromQuantity: null },
        { inventoryItemId: 'gid://shopify/InventoryItem/999', locationId: WAREHOUSE, quantity: 5, changeFromQuantity: null },
        { inventoryItemId: itemId('PL-000002', simulator), locationId: 'gid://shopify/Location/1', quantity: 5, changeFromQuantity: null },
      ]),
    });
    expect(body.data.inventorySetQuantities).toEqual({
      inventoryAdjustmentGroup: null,
      userErrors: [
        { code: 'INVALID_INVENTORY_ITEM', field: ['input', 'quantities', '1', 'inventoryItemId'], message: 'The specified inventory item could not be found.' },
        { code: 'INVALID_LOCATION', field: ['input', 'quantities', '2', 'locationId'], message: 'The specified location could not be found.' },
      ],
    });
    expect(simulator.store.availableOf('PL-000001', WAREHOUSE)).toBe(0);
    expect(simulator.store.stats()).toMatchObject({ mutationsApplied: 0, writesBySku: {} });
  });

  it('applies a valid call and reports available and on_hand changes', async () => {
    const simulator = await start();
    const body = await graphql(simulator, SET_QUANTITIES, {
      key: 'k-apply',
      input: setInput([{ inventoryItemId: itemId('PL-000003', simulator), locationId: STORE, quantity: 12, changeFromQuantity: 0 }]),
    });
    const payload = body.data.inventorySetQuantities;
    expect(payload.userErrors).toEqual([]);
    expect(payload.inventoryAdjustmentGroup.id).toMatch(/^gid:\/\/shopify\/InventoryAdjustmentGroup\/\d+$/);
    expect(payload.inventoryAdjustmentGroup.changes).toEqual([
      { name: 'available', delta: 12, quantityAfterChange: 12, item: { sku: 'PL-000003' }, location: { id: STORE } },
      { name: 'on_hand', delta: 12, quantityAfterChange: 12, item: { sku: 'PL-000003' }, location: { id: STORE } },
    ]);
    expect(body.extensions.cost).toMatchObject({ requestedQueryCost: 10, actualQueryCost: 10 });
    expect(simulator.store.availableOf('PL-000003', STORE)).toBe(12);
  });

  it('sets on_hand: reports on_hand first, and a replay answers the changes as they were', async () => {
    const simulator = await start();
    const input = { ...setInput([{ inventoryItemId: itemId('PL-000011', simulator), locationId: STORE, quantity: 4, changeFromQuantity: 0 }]), name: 'on_hand' };
    const first = await graphql(simulator, SET_QUANTITIES, { key: 'k-on-hand', input });
    expect(first.data.inventorySetQuantities.inventoryAdjustmentGroup.changes).toEqual([
      { name: 'on_hand', delta: 4, quantityAfterChange: 4, item: { sku: 'PL-000011' }, location: { id: STORE } },
      { name: 'available', delta: 4, quantityAfterChange: 4, item: { sku: 'PL-000011' }, location: { id: STORE } },
    ]);
    simulator.store.setAvailable('PL-000011', STORE, 9); // a sale inside Shopify since
    const replay = await graphql(simulator, SET_QUANTITIES, { key: 'k-on-hand', input });
    expect(replay.data).toEqual(first.data);
  });

  it('distinguishes omitted, null and stale changeFromQuantity (2026-04)', async () => {
    const simulator = await start();
    const item = itemId('PL-000004', simulator);
    simulator.store.setAvailable('PL-000004', WAREHOUSE, 3);

    const omitted = await graphql(simulator, SET_QUANTITIES, { key: 'k-omitted', input: setInput([{ inventoryItemId: item, locationId: WAREHOUSE, quantity: 9 }]) });
    expect(omitted.data.inventorySetQuantities.userErrors).toEqual([
      {
        code: 'INVALID',
        field: ['input', 'quantities', '0', 'changeFromQuantity'],
        message: 'The changeFromQuantity argument must be given to each quantity; pass null explicitly to opt out of the compare-and-swap check.',
      },
    ]);

    const stale = await graphql(simulator, SET_QUANTITIES, {
      key: 'k-stale',
      input: setInput([{ inventoryItemId: item, locationId: WAREHOUSE, quantity: 9, changeFromQuantity: 2 }]),
    });
    expect(stale.data.inventorySetQuantities.userErrors).toEqual([
      { code: 'CHANGE_FROM_QUANTITY_STALE', field: ['input', 'quantities', '0', 'changeFromQuantity'], message: 'The changeFromQuantity value does not match persisted value.' },
    ]);
    expect(simulator.store.availableOf('PL-000004', WAREHOUSE)).toBe(3);

    const current = await graphql(simulator, SET_QUANTITIES, {
      key: 'k-current',
      input: setInput([{ inventoryItemId: item, locationId: WAREHOUSE, quantity: 9, changeFromQuantity: 3 }]),
    });
    expect(current.data.inventorySetQuantities.userErrors).toEqual([]);
    expect(simulator.store.availableOf('PL-000004', WAREHOUSE)).toBe(9);

    const explicitNull = await graphql(simulator, SET_QUANTITIES, {
      key: 'k-null',
      input: setInput([{ inventoryItemId: item, locationId: WAREHOUSE, quantity: 1, changeFromQuantity: null }]),
    });
    expect(explicitNull.data.inventorySetQuantities.userErrors).toEqual([]);
    expect(simulator.store.availableOf('PL-000004', WAREHOUSE)).toBe(1);
  });

  it('tells omitted from null in inline literals too', async () => {
    const simulator = await start();
    const item = itemId('PL-000005', simulator);
    const literal = (changeFrom: string): string => `mutation {
      inventorySetQuantities(input: { name: "available", reason: "correction", quantities: [
        { inventoryItemId: "${item}", locationId: "${WAREHOUSE}", quantity: 4 ${changeFrom} }
      ] }) @idempotent(key: "literal-${changeFrom.length}") { userErrors { code } }
    }`;
    expect((await graphql(simulator, literal(''))).data.inventorySetQuantities.userErrors).toEqual([{ code: 'INVALID' }]);
    expect((await graphql(simulator, literal('changeFromQuantity: null'))).data.inventorySetQuantities.userErrors).toEqual([]);
    expect(simulator.store.availableOf('PL-000005', WAREHOUSE)).toBe(4);
  });

  it('requires @idempotent on 2026-04 and not on 2026-01', async () => {
    const simulator = await start();
    const input = setInput([{ inventoryItemId: itemId('PL-000006', simulator), locationId: WAREHOUSE, quantity: 2, changeFromQuantity: null }]);
    const withoutKey = `mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }`;

    const refused = await graphql(simulator, withoutKey, { input });
    expect(refused.data).toEqual({ inventorySetQuantities: null });
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0]).toMatchObject({
      message: 'The @idempotent directive is required for this mutation.',
      path: ['inventorySetQuantities'],
      extensions: { code: 'IDEMPOTENCY_KEY_REQUIRED' },
    });
    expect(simulator.store.availableOf('PL-000006', WAREHOUSE)).toBe(0);

    // Before 2026-04, compareQuantity/ignoreCompareQuantity govern compare-and-set.
    const older = await graphql(simulator, withoutKey, { input: { ...input, ignoreCompareQuantity: true } }, { version: '2026-01' });
    expect(older.data.inventorySetQuantities.userErrors).toEqual([]);
    expect(simulator.store.availableOf('PL-000006', WAREHOUSE)).toBe(2);
    const noCompare = await graphql(
      simulator,
      withoutKey,
      { input: setInput([{ inventoryItemId: itemId('PL-000006', simulator), locationId: WAREHOUSE, quantity: 3 }]) },
      { version: '2025-10' },
    );
    expect(noCompare.data.inventorySetQuantities.userErrors).toEqual([{ code: 'COMPARE_QUANTITY_REQUIRED' }]);
  });

  it('replays a duplicate idempotent request and refuses the key with other parameters', async () => {
    const simulator = await start();
    const line = { inventoryItemId: itemId('PL-000007', simulator), locationId: WAREHOUSE, quantity: 6, changeFromQuantity: 0 };
    const original = await graphql(simulator, SET_QUANTITIES, { key: 'k-dup', input: setInput([line]) });
    // The retry's changeFromQuantity (0) is stale by now: only a replay can answer it successfully.
    const replay = await graphql(simulator, SET_QUANTITIES, { key: 'k-dup', input: setInput([line]) });
    expect(replay.data).toEqual(original.data);
    expect(replay.data.inventorySetQuantities.userErrors).toEqual([]);

    const conflict = await graphql(simulator, SET_QUANTITIES, { key: 'k-dup', input: setInput([{ ...line, quantity: 7 }]) });
    expect(conflict.data.inventorySetQuantities).toEqual({
      inventoryAdjustmentGroup: null,
      userErrors: [{ code: 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH', field: null, message: 'The same idempotency key cannot be used with different operation parameters.' }],
    });
    expect(simulator.store.availableOf('PL-000007', WAREHOUSE)).toBe(6);
    expect(simulator.store.stats()).toMatchObject({ mutationsApplied: 1, replays: 1, writesBySku: { 'PL-000007': 1 } });
  });

  it('counts writes per SKU, one per item and location actually written', async () => {
    const simulator = await start();
    const a = itemId('PL-000008', simulator);
    const b = itemId('PL-000009', simulator);
    await graphql(simulator, SET_QUANTITIES, {
      key: 'w1',
      input: setInput([
        { inventoryItemId: a, locationId: WAREHOUSE, quantity: 1, changeFromQuantity: null },
        { inventoryItemId: a, locationId: STORE, quantity: 1, changeFromQuantity: null },
        { inventoryItemId: b, locationId: STORE, quantity: 1, changeFromQuantity: null },
      ]),
    });
    await graphql(simulator, SET_QUANTITIES, { key: 'w2', input: setInput([{ inventoryItemId: b, locationId: STORE, quantity: 2, changeFromQuantity: 1 }]) });
    await graphql(simulator, SET_QUANTITIES, { key: 'w2', input: setInput([{ inventoryItemId: b, locationId: STORE, quantity: 2, changeFromQuantity: 1 }]) });
    const stats = await sandboxGet(simulator, '/_sandbox/stats');
    expect(stats).toMatchObject({ mutationsApplied: 2, replays: 1, writesBySku: { 'PL-000008': 2, 'PL-000009': 2 } });

    const inventory = await sandboxGet(simulator, '/_sandbox/inventory');
    expect(inventory.items).toHaveLength(80);
    expect(inventory.items).toContainEqual({ sku: 'PL-000009', inventoryItemId: b, locationId: STORE, available: 2 });

    const reset = await fetch(`${simulator.url}/_sandbox/reset-stats`, { method: 'POST', headers: { 'x-shopify-access-token': TOKEN } });
    expect(await reset.json()).toMatchObject({ requests: 0, mutationsApplied: 0, writesBySku: {} });
  });
});

describe('productVariants search and pagination', () => {
  const VARIANTS = /* GraphQL */ `
    query Variants($query: String, $after: String) {
      productVariants(first: 2, query: $query, after: $after) {
        edges { cursor node { sku inventoryItem { id } } }
        pageInfo { hasNextPage hasPreviousPage endCursor }
      }
    }
  `;

  it('pages through sku:A OR sku:"B" terms with keyset cursors', async () => {
    const simulator = await start({ productCount: 300 });
    // PL-000250 is not listed in Shopify; the quoted form and case-insensitivity are Shopify's.
    const query = 'sku:PL-000011 OR sku:"PL-000002" OR sku:pl-000250 OR sku:PL-000299 OR sku:PL-000005 OR sku:PL-000100';
    const skus: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const body = await graphql(simulator, VARIANTS, { query, after });
      const connection = body.data.productVariants;
      skus.push(...connection.edges.map((edge: Json) => edge.node.sku));
      expect(connection.pageInfo.hasPreviousPage).toBe(page > 0);
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(skus).toEqual(['PL-000002', 'PL-000005', 'PL-000011', 'PL-000100', 'PL-000299']);
    // Opaque to clients, but keyed on the id, not the position.
    expect(JSON.parse(Buffer.from(after!, 'base64').toString('utf8'))).toEqual({ last_id: 4_200_000_100, last_value: '4200000100' });
  });

  it('names the unsupported term instead of returning everything', async () => {
    const simulator = await start();
    const body = await graphql(simulator, VARIANTS, { query: 'sku:PL-000001 OR title:Kubek' });
    expect(body.data).toBeNull();
    expect(body.errors[0].message).toBe(
      "Unsupported search term 'title:Kubek' in productVariants query: the simulator supports only sku:VALUE terms joined with OR.",
    );
  });

  it('limits first to 250', async () => {
    const simulator = await start();
    const body = await graphql(simulator, '{ productVariants(first: 251) { nodes { id } } }');
    expect(body.errors[0].message).toBe('The first argument must be at most 250');
  });
});

describe('faults', () => {
  const SHOP = { query: '{ shop { id } }' };

  it('answers 429 with Retry-After and executes nothing', async () => {
    const simulator = await start({ faults: { tooManyRequestsRate: 1, retryAfterSeconds: 3 } });
    const response = await post(simulator, {
      query: SET_QUANTITIES,
      variables: { key: 'k-429', input: setInput([{ inventoryItemId: itemId('PL-000001', simulator), locationId: WAREHOUSE, quantity: 5, changeFromQuantity: null }]) },
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(await response.text()).toBe(
      '{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}',
    );
    expect(simulator.store.availableOf('PL-000001', WAREHOUSE)).toBe(0);
    expect(simulator.store.stats().faultsInjected.tooManyRequests).toBe(1);
  });

  it('answers 502 or 503 for server errors', async () => {
    const simulator = await start({ faults: { serverErrorRate: 1 } });
    const statuses = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const response = await post(simulator, SHOP);
      await response.text();
      statuses.add(response.status);
    }
    expect([...statuses].sort()).toEqual([502, 503]);
    expect(simulator.store.stats().faultsInjected.serverError).toBe(12);
  });

  it('drops the connection without a response', async () => {
    const simulator = await start();
    simulator.setFaults({ dropConnectionRate: 1 });
    await expect(post(simulator, SHOP)).rejects.toThrow(TypeError);
    expect(simulator.store.stats().faultsInjected.dropConnection).toBe(1);
  });

  it('never answers a timed-out request, and close() still closes its socket', async () => {
    const simulator = await start({ faults: { timeoutRate: 1 } });
    const startedAt = Date.now();
    await expect(post(simulator, SHOP, { signal: AbortSignal.timeout(300) })).rejects.toThrow(/aborted|timeout/i);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);

    const hung = post(simulator, SHOP).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await simulator.close();
    expect(await hung).toBe('failed');
  });

  it('adds latency', async () => {
    const simulator = await start({ faults: { latencyMs: 150 } });
    const startedAt = Date.now();
    expect((await post(simulator, SHOP)).status).toBe(200);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
    expect(simulator.store.stats().faultsInjected.latency).toBe(1);
  });

  it('applies then answers 503, and the idempotent retry is a replay', async () => {
    const simulator = await start({ faults: { applyThenFailRate: 1 } });
    const variables = { key: 'k-lost', input: setInput([{ inventoryItemId: itemId('PL-000010', simulator), locationId: STORE, quantity: 8, changeFromQuantity: 0 }]) };
    const lost = await post(simulator, { query: SET_QUANTITIES, variables });
    expect(lost.status).toBe(503);
    expect(simulator.store.availableOf('PL-000010', STORE)).toBe(8);

    simulator.setFaults({ applyThenFailRate: 0 });
    const retry = await graphql(simulator, SET_QUANTITIES, variables);
    expect(retry.data.inventorySetQuantities.userErrors).toEqual([]);
    expect(retry.data.inventorySetQuantities.inventoryAdjustmentGroup.changes[0]).toMatchObject({ delta: 8, quantityAfterChange: 8 });
    expect(simulator.store.stats()).toMatchObject({ mutationsApplied: 1, replays: 1, writesBySku: { 'PL-000010': 1 } });
  });

  it('validates fault settings posted to the sandbox endpoint', async () => {
    const simulator = await start();
    const postFaults = (body: unknown): Promise<Response> =>
      fetch(`${simulator.url}/_sandbox/faults`, { method: 'POST', headers: { 'x-shopify-access-token': TOKEN }, body: JSON.stringify(body) });

    const tooHigh = await postFaults({ serverErrorRate: 1.5 });
    expect(tooHigh.status).toBe(400);
    expect(await tooHigh.json()).toEqual({ errors: 'serverErrorRate: Too big: expected number to be <=1' });

    const unknownKey = await postFaults({ errorRate: 0.1 });
    expect(await unknownKey.json()).toEqual({ errors: 'Unrecognized key: "errorRate"' });

    const overOne = await postFaults({ serverErrorRate: 0.6, tooManyRequestsRate: 0.6 });
    expect(await overOne.json()).toEqual({
      errors: 'fault rates must sum to at most 1 (serverErrorRate + tooManyRequestsRate + timeoutRate + dropConnectionRate + applyThenFailRate = 1.2)',
    });

    const accepted = await postFaults({ latencyMs: 5, serverErrorRate: 0.25 });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ latencyMs: 5, serverErrorRate: 0.25, tooManyRequestsRate: 0, retryAfterSeconds: 2 });
  });
});
