/**
 * The webhook receiver (webhooks/receiver.ts) over real HTTP with a real state store: a signed
 * POS sale is answered 200 only once its movements are stored; bad signatures, bad bodies and
 * unknown sources get a 4xx with the reason and store nothing; a store that fails gets 503 and a
 * retry; repeated and reordered deliveries leave the stock the events describe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { posSignature, type PosStockEvent } from '../../connectors/pos/events';
import { currentLevel } from '../../core/location-stock';
import { createMetrics, METRIC_NAMES } from '../../observability/metrics';
import { openStateStore, type KyselyStateStore } from '../../state/kysely-store';
import type { StateStore } from '../../state/store';
import { startConfiguredWebhookReceiver, startWebhookReceiver, type WebhookReceiver } from '../../webhooks/receiver';

const SECRET = 'test-secret-0123456789abcdef';
const logger = pino({ level: 'silent' });

function sale(eventId: string, lines: Array<[sku: string, quantity: number]>, overrides: Partial<PosStockEvent> = {}): PosStockEvent {
  return { eventId, type: 'sale', storeId: 'SKLEP-KRK', occurredAt: '2026-12-02T10:00:00.000Z', lines: lines.map(([sku, quantity]) => ({ sku, quantity })), ...overrides };
}

async function post(receiver: WebhookReceiver, body: string | Buffer, headers: Record<string, string> = {}, source = 'pos'): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${receiver.url}/webhooks/${source}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await response.text();
  return { status: response.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: response.headers };
}

const signed = (receiver: WebhookReceiver, event: unknown, secret = SECRET) => {
  const body = JSON.stringify(event);
  return post(receiver, body, { 'x-pos-signature': posSignature(body, secret) });
};

describe('webhook receiver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-webhooks-'));
  let store: KyselyStateStore;
  let receiver: WebhookReceiver;
  const metrics = createMetrics({ processMetrics: false });

  const onHand = async (sku: string, location = 'SKLEP-KRK') => {
    const held = (await store.loadLocationStock('pos', [sku])).get(sku)?.get(location);
    return held === undefined ? undefined : currentLevel(held).onHand;
  };

  beforeAll(async () => {
    store = openStateStore({ driver: 'sqlite', file: join(dir, 'state.sqlite') });
    await store.migrate();
    receiver = await startWebhookReceiver({ host: '127.0.0.1', port: 0, bodyLimitBytes: 64 * 1024, sources: { pos: { kind: 'pos', secret: SECRET } } }, { store, logger, metrics });
  });

  afterAll(async () => {
    await receiver?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a signed sale before answering 200, and a repeated delivery changes nothing', async () => {
    await store.recordStockCounts('pos', [{ sku: 'W-1', location: 'SKLEP-KRK', onHand: 10, reserved: 0, at: '2026-12-02T09:00:00.000Z' }]);
    const event = sale('evt-1', [['W-1', 2], ['W-2', 1]]);
    expect(await signed(receiver, event)).toMatchObject({ status: 200, json: { eventId: 'evt-1', movements: 2, new: 2 } });
    expect(await onHand('W-1')).toBe(8);
    expect(await onHand('W-2')).toBe(-1); // never counted at this store: the movements alone
    expect(await signed(receiver, event)).toMatchObject({ status: 200, json: { movements: 2, new: 0 } });
    expect(await onHand('W-1')).toBe(8);
    const returned = sale('evt-2', [['W-1', 1]], { type: 'return', occurredAt: '2026-12-02T11:00:00+01:00' });
    expect((await signed(receiver, returned)).status).toBe(200);
    expect(await onHand('W-1')).toBe(9);
  });

  it('refuses a missing, wrong or foreign signature with 401 and stores nothing', async () => {
    const body = JSON.stringify(sale('evt-sig', [['W-SIG', 1]]));
    expect((await post(receiver, body)).status).toBe(401);
    expect((await post(receiver, body, { 'x-pos-signature': 'sha256=00' })).status).toBe(401);
    expect((await post(receiver, body, { 'x-pos-signature': posSignature(body, 'another-secret') })).status).toBe(401);
    expect((await post(receiver, body, { 'x-pos-signature': posSignature(`${body} `, SECRET) })).status).toBe(401);
    expect((await post(receiver, body, { 'x-pos-signature': posSignature(body, SECRET).replace('sha256=', 'md5=') })).status).toBe(401);
    expect(await onHand('W-SIG')).toBeUndefined();
  });

  it('answers bad bodies with 400 naming the problem, and stores nothing', async () => {
    const notJson = '{"eventId": "evt-x",';
    const reply = await post(receiver, notJson, { 'x-pos-signature': posSignature(notJson, SECRET) });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^body is not JSON: /);

    const negative = await signed(receiver, sale('evt-neg', [['W-BAD', -3]]));
    expect(negative.status).toBe(400);
    expect(negative.json.error).toBe('not a POS stock event: lines.0.quantity: Too small: expected number to be >0');
    const wrongTime = await signed(receiver, sale('evt-time', [['W-BAD', 1]], { occurredAt: 'yesterday' }));
    expect(wrongTime.json.error).toMatch(/^not a POS stock event: occurredAt: /);
    const extraKey = await signed(receiver, { ...sale('evt-key', [['W-BAD', 1]]), customerEmail: 'jan@example.com' });
    expect(extraKey).toMatchObject({ status: 400, json: { error: expect.stringMatching(/Unrecognized key: "customerEmail"/) } });
    expect((await signed(receiver, sale('evt-empty', []))).status).toBe(400);
    expect(await onHand('W-BAD')).toBeUndefined();
  });

  it('answers an unknown source 404, an oversized body 413 and another media type 415', async () => {
    const event = JSON.stringify(sale('evt-src', [['W-1', 1]]));
    expect((await post(receiver, event, { 'x-pos-signature': posSignature(event, SECRET) }, 'wms')).status).toBe(404);
    const huge = JSON.stringify(sale('evt-huge', Array.from({ length: 1_000 }, (_, i) => [`W-${i}-${'x'.repeat(80)}`, 1] as [string, number])));
    expect((await post(receiver, huge, { 'x-pos-signature': posSignature(huge, SECRET) })).status).toBe(413);
    const xml = await fetch(`${receiver.url}/webhooks/pos`, { method: 'POST', body: '<sale/>', headers: { 'content-type': 'application/xml' } });
    expect(xml.status).toBe(415);
    expect((await fetch(`${receiver.url}/elsewhere`, { method: 'POST' })).status).toBe(404);
  });

  it('counts every answer by source and outcome, also as a Prometheus counter', async () => {
    const counts = receiver.counts();
    const { values } = await metrics.registry.getSingleMetric(METRIC_NAMES.webhookEvents)!.get();
    expect(Object.fromEntries(values.map((value) => [`${value.labels.source} ${value.labels.outcome}`, value.value]))).toEqual(counts);
    expect(counts['pos accepted']).toBe(2);
    expect(counts['pos duplicate']).toBe(1);
    expect(counts['pos unauthorized']).toBe(5);
    expect(counts['pos not json']).toBe(1);
    expect(counts['pos invalid event']).toBe(4);
    expect(counts['(unknown) unknown source']).toBe(1);
    expect(counts['pos too large']).toBe(1);
    expect(counts['pos unsupported media type']).toBe(1);
  });

  it('a burst of 500 sales over 10 stores, each delivered twice in shuffled order, leaves the stock the sales describe', async () => {
    const stores = Array.from({ length: 10 }, (_, i) => `SKLEP-${i}`);
    const events = Array.from({ length: 500 }, (_, i) =>
      sale(`burst-${i}`, [[`B-${i % 7}`, 1 + (i % 3)]], { storeId: stores[i % 10]!, occurredAt: new Date(Date.UTC(2026, 11, 2, 12, 0, i % 60)).toISOString() }),
    );
    const deliveries = [...events, ...events].map((event, i) => ({ event, key: (i * 7919) % 1000 })).sort((a, b) => a.key - b.key);
    const replies = await Promise.all(deliveries.map(({ event }) => signed(receiver, event)));
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    expect(replies.reduce((sum, reply) => sum + Number(reply.json.new), 0)).toBe(500);
    const stock = await store.loadLocationStock('pos', Array.from({ length: 7 }, (_, i) => `B-${i}`));
    for (let sku = 0; sku < 7; sku++) {
      for (const storeId of stores) {
        const expected = events.filter((e) => e.storeId === storeId && e.lines[0]!.sku === `B-${sku}`).reduce((sum, e) => sum - e.lines[0]!.quantity, 0);
        const held = stock.get(`B-${sku}`)?.get(storeId);
        expect(held === undefined ? 0 : currentLevel(held).onHand, `B-${sku} at ${storeId}`).toBe(expected);
      }
    }
  });

  it('starts from the config (webhooks: and the state store), with a store connection it closes itself', async () => {
    expect(await startConfiguredWebhookReceiver({ stateStore: { driver: 'sqlite', file: join(dir, 'state.sqlite') } }, logger)).toBeUndefined();
    const configured = await startConfiguredWebhookReceiver(
      { stateStore: { driver: 'sqlite', file: join(dir, 'state.sqlite') }, webhooks: { host: '127.0.0.1', port: 0, bodyLimitBytes: 4096, sources: { pos: { kind: 'pos', secret: SECRET } } } },
      logger,
    );
    try {
      expect((await signed(configured!, sale('evt-configured', [['W-CFG', 1]]))).json).toMatchObject({ new: 1 });
      expect(await onHand('W-CFG')).toBe(-1);
    } finally {
      await configured!.close();
    }
  });

  it('answers 503 with Retry-After when the state store cannot take the event, and the retry is stored', async () => {
    let failing = true;
    const flaky: StateStore = new Proxy(store, {
      get: (target, property, receiverObject) =>
        property === 'recordStockMovements' && failing ? () => Promise.reject(new Error('database is locked')) : Reflect.get(target, property, receiverObject),
    });
    const second = await startWebhookReceiver({ host: '127.0.0.1', port: 0, bodyLimitBytes: 64 * 1024, sources: { pos: { kind: 'pos', secret: SECRET } } }, { store: flaky, logger });
    try {
      const event = sale('evt-retry', [['W-RETRY', 4]]);
      const refused = await signed(second, event);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(await onHand('W-RETRY')).toBeUndefined();
      failing = false;
      expect((await signed(second, event)).json).toMatchObject({ new: 1 });
      expect(await onHand('W-RETRY')).toBe(-4);
      expect(second.counts()).toEqual({ 'pos store unavailable': 1, 'pos accepted': 1 });
    } finally {
      await second.close();
    }
  });
});
