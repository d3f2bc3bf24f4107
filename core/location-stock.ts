/**
 * The hub's own stock of one SKU at one location, from the two kinds of news a source sends:
 *
 * - a **count**: the absolute on hand (and reserved) at a moment, from a full or delta read of
 *   the location's source (ERP, WMS, POS);
 * - a **movement**: a signed change at a moment (a sale at a till −1, a return +1, a WMS
 *   goods receipt +40), delivered by an event, possibly late (an offline till uploading hours
 *   later), twice (a webhook retried), or out of order.
 *
 * On hand now = the latest count + every movement with a later event time. A count includes
 * the movements up to its own time, so older movements are dropped and never applied twice; a
 * count older than the one held is ignored (the scheduled read and the event path never fight:
 * absolute values with a timestamp, never blind deltas). Movements are known by id, so a
 * delivery seen twice counts once. The result depends only on the set of counts and movements
 * seen, not on the order they arrived in (property-tested).
 *
 * Times are ISO-8601 UTC strings of one form (`2026-12-02T10:00:00.000Z`), compared as text.
 * Quantities are in the source's unit, exact decimals as in core/quantity.ts.
 */
import { Dec } from './money';

export interface StockCount {
  onHand: number;
  reserved: number;
  /** When the source counted (its event time, not when the hub heard of it). */
  at: string;
}

export interface StockMovement {
  /** Unique per source (e.g. `pos:<store>:<receipt>:<line>`): a repeat delivery has the same id. */
  id: string;
  /** Signed change of on hand: −2 for a sale of two, +1 for a return. */
  delta: number;
  at: string;
}

export interface LocationStock {
  /** The latest count; undefined until the location was counted once. */
  count: StockCount | undefined;
  /** Movements later than the count (all of them while there is none), by time, then id. */
  movements: readonly StockMovement[];
}

export const NO_LOCATION_STOCK: LocationStock = { count: undefined, movements: [] };

/** The stock a count and a set of movements make: the movements the count includes, and repeats of an id, left out. */
export function locationStockOf(count: StockCount | undefined, movements: Iterable<StockMovement>): LocationStock {
  const byId = new Map<string, StockMovement>();
  for (const movement of movements) if ((count === undefined || movement.at > count.at) && !byId.has(movement.id)) byId.set(movement.id, movement);
  return { count, movements: [...byId.values()].sort(byTimeThenId) };
}

/** What applying news did: `stale` news (older than the count, or seen before) changes nothing. */
export type Applied = 'applied' | 'stale';

export function applyCount(stock: LocationStock, count: StockCount): { stock: LocationStock; applied: Applied } {
  if (stock.count !== undefined && compareCounts(count, stock.count) <= 0) return { stock, applied: 'stale' };
  return { stock: { count, movements: stock.movements.filter((movement) => movement.at > count.at) }, applied: 'applied' };
}

export function applyMovement(stock: LocationStock, movement: StockMovement): { stock: LocationStock; applied: Applied } {
  if (stock.count !== undefined && movement.at <= stock.count.at) return { stock, applied: 'stale' };
  if (stock.movements.some((seen) => seen.id === movement.id)) return { stock, applied: 'stale' };
  const movements = [...stock.movements, movement].sort(byTimeThenId);
  return { stock: { count: stock.count, movements }, applied: 'applied' };
}

/**
 * On hand and reserved now. Without a count, on hand is the sum of the movements (a location
 * that was never counted starts at zero; its channels get at most what the movements add).
 */
export function currentLevel(stock: LocationStock): { onHand: number; reserved: number } {
  const base = stock.count?.onHand ?? 0;
  return { onHand: sumExact(base, stock.movements), reserved: stock.count?.reserved ?? 0 };
}

/** The latest event time the stock reflects (count or movement); undefined when nothing is known. */
export function asOf(stock: LocationStock): string | undefined {
  return stock.movements.at(-1)?.at ?? stock.count?.at;
}

/**
 * Later counts win. Two different counts of one moment should not happen; should they, the
 * larger reading wins whichever arrived first, so the outcome never depends on arrival order.
 */
function compareCounts(a: StockCount, b: StockCount): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.onHand - b.onHand || a.reserved - b.reserved;
}

function byTimeThenId(a: StockMovement, b: StockMovement): number {
  return a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** base + Σ deltas, exact for decimals (integers, the common case, add directly). */
function sumExact(base: number, movements: readonly StockMovement[]): number {
  if (Number.isInteger(base) && movements.every((movement) => Number.isInteger(movement.delta))) {
    let total = base;
    for (const movement of movements) total += movement.delta;
    return total === 0 ? 0 : total;
  }
  let total = new Dec(String(base));
  for (const movement of movements) total = total.plus(String(movement.delta));
  const result = total.toNumber();
  return result === 0 ? 0 : result;
}
