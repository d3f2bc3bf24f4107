/**
 * The sandbox POS (sandbox/pos/simulator.ts) against the real webhook receiver and state store:
 * what a till rings up reaches the hub's stock per store exactly once, also through an offline
 * till, a receiver that is down for a while, and every event delivered twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentLevel } from '../../core/location-stock';
import { findFreePort } from '../../sandbox/local-machine';
import { startPosSimulator, type PosSimulator } from '../../sandbox/pos/simulator';
import { openStateStore, type KyselyStateStore } from '../../state/kysely-store';
import { startWebhookReceiver, type WebhookReceiver } from '../../webhooks/receiver';

const SECRET = 'pos-sandbox-secret-0123456789';
const logger = pino({ level: 'silent' });
const STORES = [
  { id: 'SKLEP-KRK', name: 'Sklep Kraków' },
  { id: 'SKLEP-GDA', name: 'Sklep Gdańsk' },
];
const SKUS = ['PL-000001', 'PL-000002', 'PL-000003'];
const OPENING = new Map(STORES.map((store) => [store.id, new Map(SKUS.map((sku) => [sku, 20] as const))]));

describe('sandbox POS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-pos-'));
  let store: KyselyStateStore;
  let port: number;
  let receiver: WebhookReceiver | undefined;
  const startReceiver = async () => {
    receiver = await startWebhookReceiver({ host: '127.0.0.1', port, bodyLimitBytes: 64 * 1024, sources: { pos: { kind: 'pos', secret: SECRET } } }, { store, logger });
  };
  const hubStock = async (storeId: string) => {
    const loaded = await store.loadLocationStock('pos', SKUS);
    return new Map(SKUS.map((sku) => [sku, currentLevel(loaded.get(sku)?.get(storeId) ?? { count: undefined, movements: [] }).onHand]));
  };
  /** The opening stock as the hub's first full read of the POS would record it. */
  const recordOpeningCounts = (at: string) =>
    store.recordStockCounts('pos', STORES.flatMap((s) => SKUS.map((sku) => ({ sku, location: s.id, onHand: OPENING.get(s.id)!.get(sku)!, reserved: 0, at }))));

  beforeAll(async () => {
    store = openStateStore({ driver: 'sqlite', file: join(dir, 'state.sqlite') });
    await store.migrate();
    port = await findFreePort();
  });

  afterAll(async () => {
    await receiver?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves stores and stock, rings up sales and returns over REST, and refuses what a till would', async () => {
    const pos = await startPosSimulator({ stores: STORES, stock: OPENING });
    try {
      expect(await (await fetch(`${pos.url}/api/stores`)).json()).toEqual(STORES);
      const sell = (body: unknown) => fetch(`${pos.url}/api/sales`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      expect((await sell({ storeId: 'SKLEP-KRK', lines: [{ sku: 'PL-000001', quantity: 3 }] })).status).toBe(201);
      expect((await sell({ storeId: 'SKLEP-KRK', type: 'return', lines: [{ sku: 'PL-000001', quantity: 1 }] })).status).toBe(201);
      expect((await sell({ storeId: 'SKLEP-KRK', lines: [{ sku: 'PL-000002', quantity: 21 }] })).status).toBe(409);
      expect((await sell({ storeId: 'SKLEP-XYZ', lines: [{ sku: 'PL-000002', quantity: 1 }] })).status).toBe(404);
      expect((await sell({ storeId: 'SKLEP-KRK', lines: [{ sku: 'PL-000002', quantity: -1 }] })).status).toBe(400);
      expect((await sell({ lines: [] })).status).toBe(400);
      const stock = (await (await fetch(`${pos.url}/api/stores/SKLEP-KRK/stock`)).json()) as Array<{ sku: string; onHand: number }>;
      expect(stock.map(({ sku, onHand }) => [sku, onHand])).toEqual([['PL-000001', 18], ['PL-000002', 20], ['PL-000003', 20]]);
    } finally {
      await pos.close();
    }
  });

  it('every receipt reaches the hub once: through an offline till, a receiver down at first, and every event sent twice', async () => {
    let clock = Date.parse('2026-12-02T10:00:00.000Z');
    const now = () => new Date((clock += 1_000));
    await recordOpeningCounts(new Date(clock).toISOString());
    const pos: PosSimulator = await startPosSimulator({ stores: STORES, stock: OPENING, webhook: { url: `http://127.0.0.1:${port}/webhooks/pos`, secret: SECRET }, duplicateShare: 1, now });
    try {
      // The receiver is not up yet: the till keeps retrying.
      pos.ringUp({ storeId: 'SKLEP-KRK', lines: [{ sku: 'PL-000001', quantity: 2 }] });
      pos.setOffline('SKLEP-GDA', true);
      for (let i = 0; i < 5; i++) pos.ringUp({ storeId: 'SKLEP-GDA', lines: [{ sku: SKUS[i % 3]!, quantity: 1 }] });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await startReceiver();
      for (let i = 0; i < 30; i++) pos.ringUp({ storeId: STORES[i % 2]!.id, type: i % 5 === 4 ? 'return' : 'sale', lines: [{ sku: SKUS[i % 3]!, quantity: 1 + (i % 2) }] });
      await pos.delivered();
      // The offline till's receipts are not there yet; then it comes back and uploads them,
      // hours late in a real store, placed by their own times.
      expect(receiver!.counts()['pos accepted']).toBe(16); // Kraków's 16; Gdańsk's 20 wait in the till
      expect(await hubStock('SKLEP-GDA')).toEqual(OPENING.get('SKLEP-GDA'));
      pos.setOffline('SKLEP-GDA', false);
      await pos.delivered();

      for (const { id } of STORES) expect(await hubStock(id), id).toEqual(pos.stockOf(id));
      expect(receiver!.counts()).toMatchObject({ 'pos accepted': 36, 'pos duplicate': 36 });
      expect(pos.deliveries()).toMatchObject({ sent: 36, 'duplicate sent': 36 });
      expect(pos.deliveries().retried).toBeGreaterThan(0);
    } finally {
      await pos.close();
    }
  });
});
