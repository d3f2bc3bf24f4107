/**
 * The sandbox store POS: stores with their stock, a REST API to read it and to ring up sales and
 * returns, and the webhooks a POS sends for each receipt (connectors/pos/events.ts), signed
 * with the shared secret and delivered at least once.
 *
 *   GET  /api/stores                      the stores: [{ id, name }]
 *   GET  /api/stores/<id>/stock           its stock: [{ sku, onHand, at }]
 *   POST /api/sales                       { storeId, type?: sale|return, lines: [{ sku, quantity }] }
 *                                         → 201 { eventId, occurredAt }; 409 when a line sells
 *                                         more than the store holds; 400/404 for bad input
 *   POST /api/stores/<id>/offline         { offline: true|false }: an offline till keeps its
 *                                         receipts and uploads them, with their own times, when
 *                                         it comes back
 *
 * Delivery is what real POS systems do and the receiver must survive: each event is POSTed
 * until it is answered 2xx (backing off from 100 ms to 5 s on errors, 4xx included except 400
 * and 401, which are dropped and counted: a retry cannot fix them), several in flight at once
 * (so they may arrive out of order), and with `duplicateShare` some are sent twice.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { posSignature, POS_SIGNATURE_HEADER, type PosStockEvent } from '../../connectors/pos/events';

export interface PosStore {
  id: string;
  name: string;
}

export interface PosSimulatorOptions {
  stores: readonly PosStore[];
  /** Opening stock: store id → SKU → on hand. */
  stock: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Where the webhooks go (`<receiver>/webhooks/<source>`) and their secret; none: no webhooks. */
  webhook?: { url: string; secret: string } | undefined;
  /** Share of events delivered twice (0-1). Default 0. */
  duplicateShare?: number;
  /** Webhook deliveries in flight at once. Default 8. */
  concurrency?: number;
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** The clock of the tills (tests). */
  now?: () => Date;
}

export interface PosSimulator {
  url: string;
  /** Rings up a receipt as a till would, the same as POST /api/sales. */
  ringUp(sale: { storeId: string; type?: 'sale' | 'return'; lines: ReadonlyArray<{ sku: string; quantity: number }> }): PosStockEvent;
  setOffline(storeId: string, offline: boolean): void;
  stockOf(storeId: string): Map<string, number>;
  /** Resolves when every event rung up so far was answered 2xx (or dropped). */
  delivered(): Promise<void>;
  /** Deliveries by outcome: `sent` (2xx), `duplicate sent`, `retried`, `dropped`. */
  deliveries(): Record<string, number>;
  close(): Promise<void>;
}

export class PosSaleRefused extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
  }
}

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export async function startPosSimulator(options: PosSimulatorOptions): Promise<PosSimulator> {
  const now = options.now ?? (() => new Date());
  const stores = new Map(options.stores.map((store) => [store.id, store]));
  const stock = new Map<string, Map<string, { onHand: number; at: string }>>();
  for (const store of options.stores) {
    const opening = options.stock.get(store.id) ?? new Map<string, number>();
    stock.set(store.id, new Map([...opening].map(([sku, onHand]) => [sku, { onHand, at: now().toISOString() }])));
  }
  const offline = new Map<string, PosStockEvent[]>();
  const counts = new Map<string, number>();
  const count = (what: string) => counts.set(what, (counts.get(what) ?? 0) + 1);

  // The delivery queue: at least once, a few in flight, retried with backoff.
  const queue: PosStockEvent[] = [];
  let inFlight = 0;
  let idleWaiters: Array<() => void> = [];
  let closed = false;
  const concurrency = options.concurrency ?? 8;
  const settleIdle = () => {
    if (queue.length > 0 || inFlight > 0) return;
    for (const resolve of idleWaiters) resolve();
    idleWaiters = [];
  };
  const deliver = async (event: PosStockEvent, duplicate: boolean) => {
    const webhook = options.webhook!;
    const body = JSON.stringify(event);
    let backoff = FIRST_BACKOFF_MS;
    while (!closed) {
      try {
        const response = await fetch(webhook.url, { method: 'POST', body, headers: { 'content-type': 'application/json', [POS_SIGNATURE_HEADER]: posSignature(body, webhook.secret) } });
        await response.arrayBuffer();
        if (response.ok) return count(duplicate ? 'duplicate sent' : 'sent');
        if (response.status === 400 || response.status === 401) return count('dropped');
      } catch {
        // The receiver is down or restarting: try again.
      }
      count('retried');
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    }
  };
  const pump = () => {
    while (!closed && inFlight < concurrency && queue.length > 0) {
      const event = queue.shift()!;
      inFlight++;
      const duplicate = Math.random() < (options.duplicateShare ?? 0);
      void Promise.all([deliver(event, false), duplicate ? deliver(event, true) : undefined]).finally(() => {
        inFlight--;
        pump();
        settleIdle();
      });
    }
  };
  const send = (events: readonly PosStockEvent[]) => {
    if (options.webhook === undefined) return;
    queue.push(...events);
    pump();
  };

  const ringUp: PosSimulator['ringUp'] = (sale) => {
    const storeStock = stock.get(sale.storeId);
    if (storeStock === undefined) throw new PosSaleRefused(`no store "${sale.storeId}"`, 404);
    if (sale.lines.length === 0) throw new PosSaleRefused('a receipt needs at least one line', 400);
    const type = sale.type ?? 'sale';
    for (const line of sale.lines) {
      if (!(typeof line.quantity === 'number' && line.quantity > 0 && Number.isFinite(line.quantity))) throw new PosSaleRefused(`line ${line.sku}: quantity must be a positive number`, 400);
      const held = storeStock.get(line.sku)?.onHand ?? 0;
      if (type === 'sale' && held < line.quantity) throw new PosSaleRefused(`store ${sale.storeId} holds ${held} of ${line.sku}, cannot sell ${line.quantity}`, 409);
    }
    const occurredAt = now().toISOString();
    for (const line of sale.lines) {
      const held = storeStock.get(line.sku)?.onHand ?? 0;
      storeStock.set(line.sku, { onHand: held + (type === 'sale' ? -line.quantity : line.quantity), at: occurredAt });
    }
    const event: PosStockEvent = { eventId: `evt-${randomUUID()}`, type, storeId: sale.storeId, occurredAt, receipt: `${sale.storeId}/${occurredAt}`, lines: sale.lines.map((line) => ({ sku: line.sku, quantity: line.quantity })) };
    const buffered = offline.get(sale.storeId);
    if (buffered !== undefined) buffered.push(event);
    else send([event]);
    return event;
  };

  const setOffline = (storeId: string, isOffline: boolean) => {
    if (!stores.has(storeId)) throw new PosSaleRefused(`no store "${storeId}"`, 404);
    const buffered = offline.get(storeId);
    if (isOffline && buffered === undefined) offline.set(storeId, []);
    if (!isOffline && buffered !== undefined) {
      offline.delete(storeId);
      send(buffered);
    }
  };

  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.get('/api/stores', async () => options.stores.map((store) => ({ id: store.id, name: store.name })));
  app.get<{ Params: { id: string } }>('/api/stores/:id/stock', async (request, reply) => {
    const storeStock = stock.get(request.params.id);
    if (storeStock === undefined) return reply.code(404).send({ error: `no store "${request.params.id}"` });
    return [...storeStock].map(([sku, level]) => ({ sku, onHand: level.onHand, at: level.at }));
  });
  app.post<{ Body: { storeId?: unknown; type?: unknown; lines?: unknown } }>('/api/sales', async (request, reply) => {
    const { storeId, type, lines } = request.body ?? {};
    if (typeof storeId !== 'string' || !Array.isArray(lines) || (type !== undefined && type !== 'sale' && type !== 'return')) {
      return reply.code(400).send({ error: 'expected { storeId, type?: "sale" | "return", lines: [{ sku, quantity }] }' });
    }
    try {
      const event = ringUp({ storeId, type: (type as 'sale' | 'return' | undefined) ?? 'sale', lines: lines as Array<{ sku: string; quantity: number }> });
      return reply.code(201).send({ eventId: event.eventId, occurredAt: event.occurredAt });
    } catch (err) {
      if (err instanceof PosSaleRefused) return reply.code(err.status).send({ error: err.message });
      throw err;
    }
  });
  app.post<{ Params: { id: string }; Body: { offline?: unknown } }>('/api/stores/:id/offline', async (request, reply) => {
    if (typeof request.body?.offline !== 'boolean') return reply.code(400).send({ error: 'expected { offline: true | false }' });
    try {
      setOffline(request.params.id, request.body.offline);
      return { storeId: request.params.id, offline: request.body.offline };
    } catch (err) {
      if (err instanceof PosSaleRefused) return reply.code(err.status).send({ error: err.message });
      throw err;
    }
  });
  const url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });

  return {
    url,
    ringUp,
    setOffline,
    stockOf: (storeId) => new Map([...(stock.get(storeId) ?? new Map<string, { onHand: number }>())].map(([sku, level]) => [sku, level.onHand])),
    delivered: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      }),
    deliveries: () => Object.fromEntries(counts),
    close: async () => {
      // Deliveries stop retrying; whoever waits for them is let go.
      closed = true;
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
      await app.close();
    },
  };
}
