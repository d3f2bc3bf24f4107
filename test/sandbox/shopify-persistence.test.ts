/**
 * The Shopify simulator's state file: the shop survives a restart (quantities, idempotency keys),
 * a bad file fails the start with a precise error, and saving is atomic.
 */
import type * as FsPromises from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEMO_SHOPIFY_LOCATIONS } from '../../sandbox/demo-catalog';
import { canonicalJson, IDEMPOTENCY_RETENTION_MS } from '../../sandbox/shopify/idempotency';
import { startShopifySimulator, StateFileError, type ShopifySimulator } from '../../sandbox/shopify/server';

/** Lets a test make the rename of a finished temporary file fail, capturing what it held. */
const renameFault = vi.hoisted(() => ({ enabled: false, temporaryContent: undefined as string | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  const rename: typeof actual.rename = async (from, to) => {
    if (renameFault.enabled) {
      renameFault.temporaryContent = await actual.readFile(from, 'utf8');
      throw Object.assign(new Error('EIO: i/o error, rename (injected)'), { code: 'EIO' });
    }
    return actual.rename(from, to);
  };
  return { ...actual, rename, default: { ...actual, rename } };
});

const TOKEN = 'shpat_test_token';
const PRODUCT_COUNT = 40;
const [WAREHOUSE, STORE] = DEMO_SHOPIFY_LOCATIONS.map((location) => location.id) as [string, string];

let dir: string;
let stateFile: string;
const running: ShopifySimulator[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shopify-state-'));
  stateFile = join(dir, 'shopify-state.json');
  renameFault.enabled = false;
  renameFault.temporaryContent = undefined;
});

afterEach(async () => {
  renameFault.enabled = false;
  await Promise.allSettled(running.splice(0).map((simulator) => simulator.close()));
  await rm(dir, { recursive: true, force: true });
});

async function start(productCount = PRODUCT_COUNT): Promise<ShopifySimulator> {
  const simulator = await startShopifySimulator({ accessToken: TOKEN, productCount, stateFile });
  running.push(simulator);
  return simulator;
}

async function stop(simulator: ShopifySimulator): Promise<void> {
  running.splice(running.indexOf(simulator), 1);
  await simulator.close();
}

// Response bodies are checked field by field, so `any` keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function graphql(simulator: ShopifySimulator, query: string, variables?: Record<string, unknown>): Promise<Json> {
  const response = await fetch(`${simulator.url}/admin/api/2026-04/graphql.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN },
    body: JSON.stringify({ query, variables }),
  });
  expect(response.status).toBe(200);
  const body: Json = await response.json();
  expect(body.errors).toBeUndefined();
  return body.data;
}

const SET_QUANTITIES = /* GraphQL */ `
  mutation SetQuantities($input: InventorySetQuantitiesInput!, $key: String!) {
    inventorySetQuantities(input: $input) @idempotent(key: $key) {
      inventoryAdjustmentGroup { id createdAt changes { name delta quantityAfterChange item { sku } location { id } } }
      userErrors { code field message }
    }
  }
`;

/** Every quantity of every level of the shop, over the API. */
const WHOLE_SHOP = /* GraphQL */ `
  {
    productVariants(first: 40) {
      nodes {
        sku
        inventoryItem {
          inventoryLevels(first: 2) {
            nodes {
              location { id }
              quantities(names: ["available", "on_hand", "committed", "incoming", "reserved", "damaged", "safety_stock", "quality_control"]) { name quantity }
            }
          }
        }
      }
    }
  }
`;

function itemId(simulator: ShopifySimulator, sku: string): string {
  const variant = simulator.store.variantBySku(sku);
  if (!variant) throw new Error(`no variant ${sku}`);
  return variant.inventoryItemId;
}

async function setAvailable(
  simulator: ShopifySimulator,
  key: string,
  lines: { sku: string; locationId: string; quantity: number; changeFromQuantity: number }[],
): Promise<Json> {
  const input = {
    name: 'available',
    reason: 'correction',
    referenceDocumentUri: 'gid://omnisync/StockPush/1',
    quantities: lines.map(({ sku, ...line }) => ({ inventoryItemId: itemId(simulator, sku), ...line })),
  };
  return (await graphql(simulator, SET_QUANTITIES, { input, key })).inventorySetQuantities;
}

const FIRST_PUSH = [
  { sku: 'PL-000001', locationId: WAREHOUSE, quantity: 7, changeFromQuantity: 0 },
  { sku: 'PL-000002', locationId: STORE, quantity: -3, changeFromQuantity: 0 },
];

/** Starts, writes FIRST_PUSH under key k-1 and a sandbox-side sale, closes; returns the k-1 answer. */
async function writeAndClose(): Promise<Json> {
  const simulator = await start();
  const first = await setAvailable(simulator, 'k-1', FIRST_PUSH);
  expect(first.userErrors).toEqual([]);
  simulator.store.setAvailable('PL-000003', STORE, 11);
  await stop(simulator);
  return first;
}

describe('state file', () => {
  it('keeps every quantity and the idempotency keys across a restart', async () => {
    const simulator = await start();
    const first = await setAvailable(simulator, 'k-1', FIRST_PUSH);
    expect(first.userErrors).toEqual([]);
    const second = await setAvailable(simulator, 'k-2', [{ sku: 'PL-000001', locationId: WAREHOUSE, quantity: 9, changeFromQuantity: 7 }]);
    expect(second.userErrors).toEqual([]);
    simulator.store.setAvailable('PL-000003', STORE, 11); // a sale inside Shopify
    const before = await graphql(simulator, WHOLE_SHOP);
    await stop(simulator);

    const restarted = await start();
    expect(await graphql(restarted, WHOLE_SHOP)).toEqual(before);
    expect(restarted.store.availableOf('PL-000001', WAREHOUSE)).toBe(9);
    expect(restarted.store.availableOf('PL-000002', STORE)).toBe(-3);
    expect(restarted.store.availableOf('PL-000003', STORE)).toBe(11);

    // The retry of k-1 (say, its answer was lost before the restart) replays: same answer, no write.
    expect(await setAvailable(restarted, 'k-1', FIRST_PUSH)).toEqual(first);
    expect(restarted.store.availableOf('PL-000001', WAREHOUSE)).toBe(9);
    expect(restarted.store.stats()).toMatchObject({ replays: 1, mutationsApplied: 0, writesBySku: {} });
    const reused = await setAvailable(restarted, 'k-1', [{ sku: 'PL-000001', locationId: WAREHOUSE, quantity: 1, changeFromQuantity: 9 }]);
    expect(reused.userErrors.map((error: Json) => error.code)).toEqual(['IDEMPOTENCY_KEY_PARAMETER_MISMATCH']);

    // Adjustment group ids keep counting instead of starting over.
    const third = await setAvailable(restarted, 'k-3', [{ sku: 'PL-000001', locationId: WAREHOUSE, quantity: 4, changeFromQuantity: 9 }]);
    const groupNumber = (group: Json): number => Number(group.id.split('/').pop());
    expect(groupNumber(third.inventoryAdjustmentGroup)).toBe(groupNumber(second.inventoryAdjustmentGroup) + 1);
  });

  it('saves within about 2 s of a change while running, and writes nothing when nothing changed', async () => {
    const idle = await start();
    await stop(idle);
    await expect(readFile(stateFile)).rejects.toMatchObject({ code: 'ENOENT' });

    const simulator = await start();
    await setAvailable(simulator, 'k-1', FIRST_PUSH);
    const saved = await vi.waitFor(async () => JSON.parse(await readFile(stateFile, 'utf8')) as Json, { timeout: 4000, interval: 100 });
    expect(saved).toMatchObject({ version: 1, productCount: PRODUCT_COUNT });
    expect(saved.levels).toHaveLength(PRODUCT_COUNT * 2);
    expect(saved.levels[0]).toEqual({
      inventoryItemId: itemId(simulator, 'PL-000001'),
      locationId: WAREHOUSE,
      sku: 'PL-000001',
      quantities: { available: 7, committed: 0, incoming: 0, reserved: 0, damaged: 0, safety_stock: 0, quality_control: 0 },
    });
    expect(saved.idempotency.map((entry: Json) => entry.key)).toEqual(['k-1']);
    expect(await readdir(dir)).toEqual(['shopify-state.json']);
  });

  it('replays keys from a file written when fingerprints were the canonical JSON itself', async () => {
    const first = await writeAndClose();
    const file = JSON.parse(await readFile(stateFile, 'utf8'));
    expect(file.idempotency[0].fingerprint).toMatch(/^sha256:/);
    // What such a file held: the parameters as graphql-js coerced them, keys sorted.
    const itemIdOf = (sku: string): string => file.levels.find((level: Json) => level.sku === sku).inventoryItemId;
    const quantities = FIRST_PUSH.map(({ sku, ...line }) => ({ inventoryItemId: itemIdOf(sku), ...line }));
    const input = { name: 'available', reason: 'correction', referenceDocumentUri: 'gid://omnisync/StockPush/1', quantities };
    file.idempotency[0].fingerprint = canonicalJson({ mutation: 'inventorySetQuantities', input });
    await writeFile(stateFile, JSON.stringify(file));

    const restarted = await start();
    expect(await setAvailable(restarted, 'k-1', FIRST_PUSH)).toEqual(first);
    expect(restarted.store.stats()).toMatchObject({ replays: 1, mutationsApplied: 0 });
    const reused = await setAvailable(restarted, 'k-1', [{ sku: 'PL-000001', locationId: WAREHOUSE, quantity: 1, changeFromQuantity: 7 }]);
    expect(reused.userErrors.map((error: Json) => error.code)).toEqual(['IDEMPOTENCY_KEY_PARAMETER_MISMATCH']);
  });

  it('forgets idempotency keys older than 24 h when loading', async () => {
    await writeAndClose();
    const file = JSON.parse(await readFile(stateFile, 'utf8'));
    file.idempotency[0].storedAt = Date.now() - IDEMPOTENCY_RETENTION_MS - 1000;
    await writeFile(stateFile, JSON.stringify(file));

    const restarted = await start();
    // k-1 is new again, so it is validated against the current quantity (7, not 0).
    const retried = await setAvailable(restarted, 'k-1', FIRST_PUSH);
    expect(retried.userErrors.map((error: Json) => error.code)).toEqual(['CHANGE_FROM_QUANTITY_STALE', 'CHANGE_FROM_QUANTITY_STALE']);
    expect(restarted.store.stats().replays).toBe(0);
  });

  describe('a bad file fails the start with an error naming it, and is left as it was', () => {
    type Edit = (file: Json) => unknown;
    const cases: [string, Edit | string, (file: string) => string][] = [
      ['truncated', '{"version": 1, "levels": [', (file) => `Shopify simulator state file ${file}: is not valid JSON (${jsonErrorOf('{"version": 1, "levels": [')})`],
      ['not an object', '[]', (file) => `Shopify simulator state file ${file}: is not a state file: expected a JSON object with "version": 1`],
      ['another version', (f) => ({ ...f, version: 2 }), (file) => `Shopify simulator state file ${file}: has version 2; this simulator reads version 1 only`],
      [
        'a wrong field',
        (f) => {
          f.levels[3].quantities.available = '7';
          delete f.levels[4].quantities.incoming;
          return { ...f, extra: true };
        },
        (file) =>
          `Shopify simulator state file ${file}: does not match the version 1 format: ` +
          'levels.3.quantities.available: Invalid input: expected number, received string; ' +
          'levels.4.quantities.incoming: Invalid input: expected number, received undefined; (root): Unrecognized key: "extra"',
      ],
      [
        'another productCount',
        (f) => ({ ...f, productCount: 1200 }),
        (file) =>
          `Shopify simulator state file ${file}: was written for productCount 1200, but the simulator was started with productCount 40; ` +
          'start it with the same productCount or delete the file',
      ],
      [
        'an unknown inventory item',
        (f) => {
          f.levels[1].inventoryItemId = 'gid://shopify/InventoryItem/1';
          return f;
        },
        (file) =>
          `Shopify simulator state file ${file}: does not match the catalog: ` +
          `levels[1] (inventoryItemId gid://shopify/InventoryItem/1, locationId ${STORE}): the catalog has no such inventory item`,
      ],
      [
        'a missing level',
        (f) => {
          f.levels.pop();
          return f;
        },
        (file) =>
          `Shopify simulator state file ${file}: does not match the catalog: 1 of the catalog's 80 inventory levels are missing ` +
          `(first: inventoryItemId gid://shopify/InventoryItem/4500000040, locationId ${STORE})`,
      ],
    ];

    it.each(cases)('%s', async (_name, edit, expected) => {
      await writeAndClose();
      const content = typeof edit === 'string' ? edit : JSON.stringify(edit(JSON.parse(await readFile(stateFile, 'utf8'))));
      await writeFile(stateFile, content);

      const failure = await startShopifySimulator({ accessToken: TOKEN, productCount: PRODUCT_COUNT, stateFile }).then(
        (simulator) => {
          running.push(simulator);
          throw new Error('started with a bad state file');
        },
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StateFileError);
      expect((failure as Error).message).toBe(expected(stateFile));
      expect(await readFile(stateFile, 'utf8')).toBe(content);
    });
  });

  it('writes atomically: a failed save leaves the previous file whole and no temporary file behind', async () => {
    await writeAndClose();
    const previous = await readFile(stateFile, 'utf8');
    const simulator = await start();
    await setAvailable(simulator, 'k-2', [{ sku: 'PL-000001', locationId: WAREHOUSE, quantity: 8, changeFromQuantity: 7 }]);

    renameFault.enabled = true;
    running.splice(running.indexOf(simulator), 1);
    const failure = await simulator.close().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StateFileError);
    expect((failure as Error).message).toBe(`Shopify simulator state file ${stateFile}: could not be saved (EIO: i/o error, rename (injected))`);
    // The new state was complete in the temporary file; the real file never saw any of it.
    const attempted = JSON.parse(renameFault.temporaryContent!);
    expect(attempted.levels[0].quantities.available).toBe(8);
    expect(await readFile(stateFile, 'utf8')).toBe(previous);
    expect(await readdir(dir)).toEqual(['shopify-state.json']);
  });
});

function jsonErrorOf(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('valid JSON');
}
