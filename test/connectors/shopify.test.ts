/**
 * The shopify connector against the sandbox Shopify simulator over real HTTP, with a real SQLite
 * state store holding its crosswalk: check(), stock writes, per-item failures of the atomic
 * mutation, idempotency, failure kinds, the SKU crosswalk (and its negative cache) and pacing.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { useShopifyConnectorHarness } from '../support/shopify-connector-harness';
import { writeBatchSize, type ConnectorInstance, type StockTarget, type StockUpdate } from '../../connectors/contract';
import { ShopifyConfig, shopifyManifest } from '../../connectors/shopify';
import { INVENTORY_ITEM_CROSSWALK } from '../../connectors/shopify/stock-target';
import { MISSING_SKU_CROSSWALK } from '../../connectors/shopify/sku-resolution';
import { OmnisyncError, toApplicationFailure, type ItemResult } from '../../core/errors';
import { DEMO_SHOPIFY_LOCATIONS } from '../../sandbox/demo-catalog';
import type { ShopifySimulator } from '../../sandbox/shopify/server';

const TOKEN = 'shpat_omnisync_test_token';
const WAW = DEMO_SHOPIFY_LOCATIONS[0]!.id;
const KRK = DEMO_SHOPIFY_LOCATIONS[1]!.id;
/** Demo products in the simulator; every 250th SKU (PL-000250, PL-000500) is not listed in Shopify. */
const PRODUCT_COUNT = 600;
const UNLISTED_SKU = 'PL-000250';

const sku = (n: number): string => `PL-${String(n).padStart(6, '0')}`;

const harness = useShopifyConnectorHarness({ token: TOKEN, productCount: PRODUCT_COUNT, idPrefix: 'shop' });
const { simulator, connector } = harness;

function target(instance: ConnectorInstance): StockTarget {
  expect(instance.operations['stock.write']).toBeDefined();
  return instance.operations['stock.write']!;
}

/** The rejection of `promise`, which must be an OmnisyncError. */
async function failureOf(promise: Promise<unknown>): Promise<OmnisyncError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(OmnisyncError);
  return error as OmnisyncError;
}

const ok = (update: StockUpdate): ItemResult<{ sku: string; location: string }> => ({ key: { sku: update.sku, location: update.location }, ok: true });

/** `count` listed SKUs starting at `first`, at one location, with distinct quantities. */
function updatesFor(first: number, count: number, location = WAW, quantity = (n: number) => (n * 7) % 113): StockUpdate[] {
  const updates: StockUpdate[] = [];
  for (let n = first; updates.length < count; n++) {
    if (n % 250 === 0) continue; // not listed in Shopify
    updates.push({ sku: sku(n), location, quantity: quantity(n) });
  }
  return updates;
}

function chunked<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

describe('shopify connector against the simulator', () => {
  describe('check()', () => {
    it('names the shop, its domain and its active locations', async () => {
      const sim = await simulator();
      const shop = connector(sim);
      expect(await shop.check()).toEqual({
        ok: true,
        detail:
          'connected to shop "omnisync demo" (omnisync-demo.myshopify.com), 2 active location(s): ' +
          'Magazyn Warszawa gid://shopify/Location/71001, Sklep Kraków gid://shopify/Location/71002',
      });
      expect(sim.store.stats().requests).toBe(1);
    });

    it('with a wrong token, fails as a non-retryable auth error that says what to check', async () => {
      const sim = await simulator();
      const shop = connector(sim, { accessToken: 'shpat_wrong' }, 'shop-wrong-token');
      const error = await failureOf(shop.check());
      expect(error.kind).toBe('auth');
      expect(error.message).toBe('shopify shop-wrong-token: check was refused (HTTP 401): check the access token and its scopes');
      expect(error.status).toBe(401);
      const failure = toApplicationFailure(error);
      expect(failure.type).toBe('OmnisyncAuthError');
      expect(failure.nonRetryable).toBe(true);
    });
  });

  describe('setStock', () => {
    it('writes ~300 updates in two calls of at most 250, each SKU once per location', async () => {
      const sim = await simulator();
      const shop = connector(sim);
      const stock = target(shop);
      const batchSize = writeBatchSize(shopifyManifest, 'stock.write');
      expect(batchSize).toBe(250);

      // 150 SKUs × 2 locations, SKU-major: the first call holds SKUs 1–125, the second 126–150.
      const updates = Array.from({ length: 150 }, (_, i) => i + 1).flatMap((n) => [
        { sku: sku(n), location: WAW, quantity: n },
        { sku: sku(n), location: KRK, quantity: 1_000 + n },
      ]);
      const calls = chunked(updates, batchSize);
      expect(calls.map((call) => call.length)).toEqual([250, 50]);

      const results = [];
      for (const [index, call] of calls.entries()) results.push(...(await stock.setStock(call, `batch-300:${index}`)));

      expect(results).toEqual(updates.map(ok));
      for (const update of updates) expect(sim.store.availableOf(update.sku, update.location)).toBe(update.quantity);
      const stats = sim.store.stats();
      expect(stats.writesBySku).toEqual(Object.fromEntries(updates.filter((u) => u.location === WAW).map((u) => [u.sku, 2])));
      expect(stats.mutationsApplied).toBe(2);
      // One SKU lookup and one mutation per call.
      expect(stats.requests).toBe(4);
      expect(stats.throttled).toBe(0);

      // The resolved inventory items are in the crosswalk of this connector.
      const crosswalk = await harness.state.crosswalk(shop.id).get(INVENTORY_ITEM_CROSSWALK, [sku(1), sku(150)]);
      expect(crosswalk).toEqual(
        new Map([
          [sku(1), sim.store.variantBySku(sku(1))!.inventoryItemId],
          [sku(150), sim.store.variantBySku(sku(150))!.inventoryItemId],
        ]),
      );
    });

    it('refuses more than 250 updates in one call without sending anything', async () => {
      const sim = await simulator();
      const shop = connector(sim, {}, 'shop-too-many');
      const error = await failureOf(target(shop).setStock(updatesFor(1, 251), 'too-many'));
      expect(error.kind).toBe('validation');
      expect(error.message).toBe('shopify shop-too-many: 251 updates in one call, at most 250');
      expect(sim.store.stats().requests).toBe(0);
    });

    it('reports a SKU Shopify does not list as unmappable and writes the other 249', async () => {
      const sim = await simulator();
      const shop = connector(sim);
      const updates = updatesFor(1, 249);
      updates.splice(100, 0, { sku: UNLISTED_SKU, location: WAW, quantity: 5 });
      expect(updates).toHaveLength(250);

      const results = await target(shop).setStock(updates, 'batch-unknown:0');

      expect(results[100]).toEqual({
        key: { sku: UNLISTED_SKU, location: WAW },
        ok: false,
        kind: 'unmappable',
        message: `SKU ${UNLISTED_SKU} has no variant in Shopify (${shop.id})`,
      });
      const others = results.filter((_, index) => index !== 100);
      expect(others).toEqual(updates.filter((_, index) => index !== 100).map(ok));
      const stats = sim.store.stats();
      expect(stats.mutationsApplied).toBe(1);
      expect(Object.keys(stats.writesBySku)).toHaveLength(249);
      expect(stats.writesBySku[UNLISTED_SKU]).toBeUndefined();
      for (const update of others.map((r) => updates.find((u) => u.sku === r.key.sku)!)) {
        expect(sim.store.availableOf(update.sku, WAW)).toBe(update.quantity);
      }
      // Remembered as missing, so the next run does not look it up again (see "crosswalk" below).
      expect([...(await harness.state.crosswalk(shop.id).get(MISSING_SKU_CROSSWALK, [UNLISTED_SKU])).keys()]).toEqual([UNLISTED_SKU]);
    });

    it('when the atomic mutation fails on one item, reports that item and re-sends the rest once with key suffix :r1', async () => {
      const sim = await simulator();
      const shop = connector(sim);
      const updates = updatesFor(1, 10);
      updates[3] = { ...updates[3]!, location: 'gid://shopify/Location/999' };

      const results = await target(shop).setStock(updates, 'batch-location:0');

      expect(results[3]).toEqual({
        key: { sku: updates[3]!.sku, location: 'gid://shopify/Location/999' },
        ok: false,
        kind: 'validation',
        message: 'INVALID_LOCATION: The specified location could not be found.',
      });
      const rest = updates.filter((_, index) => index !== 3);
      expect(results.filter((_, index) => index !== 3)).toEqual(rest.map(ok));
      for (const update of rest) expect(sim.store.availableOf(update.sku, WAW)).toBe(update.quantity);
      expect(sim.store.availableOf(updates[3]!.sku, WAW)).toBe(0);

      const stats = sim.store.stats();
      // lookup + the refused call + the re-sent rest; only the re-sent rest wrote.
      expect(stats.requests).toBe(3);
      expect(stats.mutationsApplied).toBe(1);
      expect(stats.writesBySku).toEqual(Object.fromEntries(rest.map((u) => [u.sku, 1])));
      expect(sim.store.exportState().idempotency.map((entry) => entry.key)).toEqual(['batch-location:0', 'batch-location:0:r1']);

      // The activity retried (e.g. its answer was lost): both calls are replays, nothing is written twice.
      expect(await target(shop).setStock(updates, 'batch-location:0')).toEqual(results);
      const after = sim.store.stats();
      expect(after.replays).toBe(2);
      expect(after.mutationsApplied).toBe(1);
      expect(after.writesBySku).toEqual(stats.writesBySku);
    });

    it('the same idempotency key with the same updates is a replay: nothing is written twice', async () => {
      const sim = await simulator();
      const shop = connector(sim);
      const updates = updatesFor(300, 20, KRK);

      const first = await target(shop).setStock(updates, 'batch-replay:0');
      // A sale in Shopify after the write: a replay must not overwrite it.
      sim.store.setAvailable(updates[0]!.sku, KRK, 1);
      const second = await target(shop).setStock(updates, 'batch-replay:0');

      expect(first).toEqual(updates.map(ok));
      expect(second).toEqual(first);
      const stats = sim.store.stats();
      expect(stats.replays).toBe(1);
      expect(stats.mutationsApplied).toBe(1);
      expect(stats.writesBySku).toEqual(Object.fromEntries(updates.map((u) => [u.sku, 1])));
      expect(sim.store.availableOf(updates[0]!.sku, KRK)).toBe(1);
      expect(sim.store.availableOf(updates[1]!.sku, KRK)).toBe(updates[1]!.quantity);
    });
  });

  describe('failure kinds (after the in-activity retries)', () => {
    /** A connector whose SKUs are already resolved, so the failing call is the mutation. */
    async function warmConnector(): Promise<{ sim: ShopifySimulator; shop: ConnectorInstance; updates: StockUpdate[] }> {
      const sim = await simulator();
      const shop = connector(sim);
      const updates = updatesFor(400, 5);
      await target(shop).setStock(updates, 'warm-up');
      sim.store.resetStats();
      return { sim, shop, updates: updates.map((u) => ({ ...u, quantity: u.quantity + 1 })) };
    }

    it('429 with Retry-After: rate-limited, retryAfterMs 1000, nextRetryDelay 1000 for Temporal', async () => {
      const { sim, shop, updates } = await warmConnector();
      sim.setFaults({ tooManyRequestsRate: 1, retryAfterSeconds: 1 });

      const error = await failureOf(target(shop).setStock(updates, 'batch-429:0'));

      expect(error.kind).toBe('rate-limited');
      expect(error.message).toBe(
        `shopify ${shop.id}: inventorySetQuantities failed with HTTP 429: ` +
          '{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}',
      );
      expect(error.retryAfterMs).toBe(1000);
      expect(error.status).toBe(429);
      const failure = toApplicationFailure(error);
      expect(failure.type).toBe('OmnisyncRateLimitedError');
      expect(failure.nonRetryable).toBe(false);
      // @temporalio/common keeps the Duration as given: a number is milliseconds.
      expect(failure.nextRetryDelay).toBe(1000);
      const stats = sim.store.stats();
      expect(stats.faultsInjected.tooManyRequests).toBe(3); // first try + 2 in-activity retries
      expect(stats.mutationsApplied).toBe(0);
    });

    it('5xx: transient', async () => {
      const { sim, shop, updates } = await warmConnector();
      sim.setFaults({ serverErrorRate: 1 });

      const error = await failureOf(target(shop).setStock(updates, 'batch-5xx:0'));

      expect(error.kind).toBe('transient');
      // The fault is a 502 (HTML from "the edge") or a 503 (JSON); each is quoted verbatim.
      const expected =
        error.status === 502
          ? `shopify ${shop.id}: inventorySetQuantities failed with HTTP 502: <!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>` +
            '<body><h1>502 Bad Gateway</h1><p>There was a problem reaching the shop.</p></body></html>'
          : `shopify ${shop.id}: inventorySetQuantities failed with HTTP 503: {"errors":"Service Unavailable"}`;
      expect([502, 503]).toContain(error.status);
      expect(error.message).toBe(expected);
      expect(toApplicationFailure(error)).toMatchObject({ type: 'OmnisyncTransientError', nonRetryable: false });
      const stats = sim.store.stats();
      expect(stats.faultsInjected.serverError).toBe(3);
      expect(stats.mutationsApplied).toBe(0);
    });

    it('a dropped connection: transient', async () => {
      const { sim, shop, updates } = await warmConnector();
      sim.setFaults({ dropConnectionRate: 1 });

      const error = await failureOf(target(shop).setStock(updates, 'batch-drop:0'));

      expect(error.kind).toBe('transient');
      expect(error.message).toBe(`shopify ${shop.id}: inventorySetQuantities failed: ECONNRESET socket hang up`);
      expect(error.status).toBe('ECONNRESET');
      expect(toApplicationFailure(error)).toMatchObject({ type: 'OmnisyncTransientError', nonRetryable: false });
      const stats = sim.store.stats();
      expect(stats.faultsInjected.dropConnection).toBe(3);
      expect(stats.mutationsApplied).toBe(0);
    });
  });

  describe('SKU crosswalk', () => {
    it('resolves a SKU once: later calls, also of a new instance, send only the mutation', async () => {
      const sim = await simulator();
      const shop = connector(sim);
      const updates = updatesFor(100, 20);

      await target(shop).setStock(updates, 'xwalk:0');
      expect(sim.store.stats().requests).toBe(2); // lookup + mutation

      const again = updates.map((u) => ({ ...u, quantity: u.quantity + 1 }));
      expect(await target(shop).setStock(again, 'xwalk:1')).toEqual(again.map(ok));
      expect(sim.store.stats().requests).toBe(3); // the mutation only

      // A restarted worker builds a new instance; the crosswalk lives in the state store.
      const restarted = connector(sim, {}, shop.id);
      const third = updates.map((u) => ({ ...u, quantity: u.quantity + 2 }));
      expect(await target(restarted).setStock(third, 'xwalk:2')).toEqual(third.map(ok));
      expect(sim.store.stats().requests).toBe(4);
      expect(sim.store.stats().mutationsApplied).toBe(3);
      for (const update of third) expect(sim.store.availableOf(update.sku, WAW)).toBe(update.quantity);
    });

    it('looks a missing SKU up once within missingSkuRecheckMinutes, and again after it', async () => {
      const sim = await simulator();
      const shop = connector(sim);
      const missing: StockUpdate = { sku: UNLISTED_SKU, location: WAW, quantity: 3 };
      const unmappable = {
        key: { sku: UNLISTED_SKU, location: WAW },
        ok: false,
        kind: 'unmappable',
        message: `SKU ${UNLISTED_SKU} has no variant in Shopify (${shop.id})`,
      };

      expect(await target(shop).setStock([missing], 'missing:0')).toEqual([unmappable]);
      expect(sim.store.stats().requests).toBe(1); // the lookup; nothing to write

      // Within the recheck window: no lookup at all when every item is unknown.
      expect(await target(shop).setStock([missing], 'missing:1')).toEqual([unmappable]);
      expect(sim.store.stats().requests).toBe(1);

      // With a known SKU (resolved once here): the mutation only.
      const known = updatesFor(1, 1)[0]!;
      await target(shop).setStock([known], 'missing:2');
      expect(sim.store.stats().requests).toBe(3);
      expect(await target(shop).setStock([missing, { ...known, quantity: 9 }], 'missing:3')).toEqual([unmappable, ok(known)]);
      expect(sim.store.stats().requests).toBe(4);

      // The same connector with missingSkuRecheckMinutes 0 looks it up on every call.
      const eager = connector(sim, { missingSkuRecheckMinutes: 0 }, shop.id);
      expect(await target(eager).setStock([missing], 'missing:4')).toEqual([unmappable]);
      expect(sim.store.stats().requests).toBe(5);
      expect(await target(eager).setStock([missing], 'missing:5')).toEqual([unmappable]);
      expect(sim.store.stats().requests).toBe(6);
    });

    it('preparePush resolves a whole push in few lookups; its writer then sends only mutations', async () => {
      const sim = await simulator();
      const id = harness.nextConnectorId();
      // The crosswalk as the worker gives it, counting its reads.
      let crosswalkReads = 0;
      const stored = harness.state.crosswalk(id);
      const crosswalk = { get: (kind: string, keys: readonly string[]) => (crosswalkReads++, stored.get(kind, keys)), put: stored.put.bind(stored) };
      const parsed = ShopifyConfig.parse({ shopUrl: sim.url, accessToken: TOKEN });
      const shop = shopifyManifest.create(id, parsed, { logger: pino({ level: 'silent' }), crosswalk, baseDir: harness.stateDir });
      harness.closeAfterTest(() => shop.close());
      // 600 SKUs, 2 unlisted (PL-000250, PL-000500): lookups of at most 250 SKUs, so 3 requests.
      const skus = Array.from({ length: 600 }, (_, index) => sku(index + 1));
      const writer = await target(shop).preparePush!(skus);
      expect(sim.store.stats().requests).toBe(3);

      const known = await stored.get(INVENTORY_ITEM_CROSSWALK, skus);
      expect(known.size).toBe(598);
      expect([...(await stored.get(MISSING_SKU_CROSSWALK, skus)).keys()]).toEqual([UNLISTED_SKU, 'PL-000500']);

      // Three write calls of 200 quantities each, unlisted SKUs included: three mutations, no
      // lookup, and no crosswalk read: the writer reuses what preparePush resolved.
      const readsBeforeWrites = crosswalkReads;
      for (let call = 0; call < 3; call++) {
        const updates = skus.slice(call * 200, call * 200 + 200).map((s, index) => ({ sku: s, location: KRK, quantity: index }));
        const results = await writer.setStock(updates, `prepared:${call}`);
        expect(results.filter((result) => !result.ok).map((result) => result.key.sku)).toEqual(call === 1 ? [UNLISTED_SKU] : call === 2 ? ['PL-000500'] : []);
      }
      expect(crosswalkReads).toBe(readsBeforeWrites);
      expect(sim.store.stats().requests).toBe(6);
      expect(sim.store.stats().mutationsApplied).toBe(3);
    });

    it("preparePush's writer resolves a SKU the push did not announce, and checks the call size", async () => {
      const sim = await simulator();
      const shop = connector(sim);
      const writer = await target(shop).preparePush!([sku(1)]);
      expect(sim.store.stats().requests).toBe(1);
      const updates = [{ sku: sku(1), location: WAW, quantity: 4 }, { sku: sku(2), location: WAW, quantity: 5 }, { sku: UNLISTED_SKU, location: WAW, quantity: 6 }];
      const results = await writer.setStock(updates, 'unannounced:0');
      expect(results.map((result) => result.ok)).toEqual([true, true, false]);
      // One lookup for the two unannounced SKUs, then the mutation.
      expect(sim.store.stats().requests).toBe(3);
      expect((await failureOf(writer.setStock(updatesFor(1, 251), 'too-many'))).message).toMatch(/251 updates in one call, at most 250/);
    });

    it('looks a missing SKU up again once the recheck window has passed', async () => {
      const sim = await simulator();
      // 0.005 minutes = 300 ms.
      const shop = connector(sim, { missingSkuRecheckMinutes: 0.005 });
      const missing: StockUpdate = { sku: 'NOT-IN-SHOPIFY-1', location: KRK, quantity: 1 };

      await target(shop).setStock([missing], 'window:0');
      await target(shop).setStock([missing], 'window:1');
      expect(sim.store.stats().requests).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 350));
      await target(shop).setStock([missing], 'window:2');
      expect(sim.store.stats().requests).toBe(2);
    });
  });

  describe('pacing', () => {
    it('spends points at the restore rate: 12 mutations on a 100-point bucket restoring 50/s, never THROTTLED', async () => {
      const sim = await simulator({ restoreRate: 50, bucketSize: 100 });
      const shop = connector(sim, { restoreRate: 50, bucketSize: 100 });
      const updates = updatesFor(500, 12, KRK);
      // Resolved beforehand (a lookup of 250 variants requests 502 points, more than this bucket holds).
      await harness.state.crosswalk(shop.id).put(INVENTORY_ITEM_CROSSWALK, new Map(updates.map((u) => [u.sku, sim.store.variantBySku(u.sku)!.inventoryItemId])));

      const started = performance.now();
      for (const [index, update] of updates.entries()) {
        expect(await target(shop).setStock([update], `paced:${index}`)).toEqual([ok(update)]);
      }
      const elapsedMs = performance.now() - started;

      const stats = sim.store.stats();
      expect(stats.throttled).toBe(0);
      expect(stats.requests).toBe(12);
      expect(stats.mutationsApplied).toBe(12);
      // The full bucket covers 10 calls (10 points each); the 11th and 12th wait for 20 points
      // at 50/s: ≥ 0.4 s in theory, with some slack for timer granularity.
      expect(elapsedMs).toBeGreaterThanOrEqual(350);
      expect(elapsedMs).toBeLessThan(5_000);
    });
  });
});
