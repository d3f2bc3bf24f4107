/**
 * The price entity on the engine: ERP price list entries → the price each channel should show
 * now (core/entities/price.ts), diffed against the snapshot, checked by the anomaly guard
 * (core/price-guard.ts), written through `price.write` with the EU Omnibus lowest price of the
 * 30 days before (from the price history every confirmed write appends to).
 *
 * Staged items: key = SKU, part = '', value = priceValueText (currency, amount, compare-at),
 * held = the guard's reason when it holds the change, extra = { lowest?: Money }.
 */
import { computeChannelPrices, lowestPriorPrice, OMNIBUS_DAYS, parsePriceValueText, priceEntity, priceListsOf, priceValueText, type ChannelPrice } from '../core/entities/price';
import { guardPriceChanges, type PriceChange } from '../core/price-guard';
import type { Money } from '../core/money';
import type { StagedItem } from '../core/model';
import { snapshotKey } from '../core/stock-diff';
import { writeBatchSize, type PriceUpdate } from '../connectors/contract';
import type { LoadedPriceSync, LoadedSync } from '../config/load';
import type { QuarantineRecord } from '../state/store';
import type { EngineDeps, EntityEngine, PagePlan, PlanPageInput } from './entity-engine';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What a staged price carries beyond its value. */
interface StagedPriceExtra {
  /** EU Omnibus: the lowest price of the 30 days before the change, when the history has one. */
  lowest?: Money;
}

export function priceRecordKey(sku: string, target: string): string {
  return `${sku}|${target}`;
}

/** A staged price as the target's update. */
export function toPriceUpdate(item: StagedItem): PriceUpdate {
  const value = parsePriceValueText(item.value);
  if (value === undefined) throw new Error(`staged price of ${item.key} is not a price value: ${item.value}`);
  const extra = (item.extra ?? {}) as StagedPriceExtra;
  return { sku: item.key, price: value.price, compareAt: value.compareAt, ...(extra.lowest === undefined ? {} : { lowestPrior30Days: extra.lowest }) };
}

async function planPricePage(deps: EngineDeps, loaded: LoadedSync, input: PlanPageInput): Promise<PagePlan> {
  const sync = loaded as LoadedPriceSync;
  const mapping = sync.priceMapping;
  const at = input.at ?? new Date().toISOString();
  const page = await deps.connectors.operation(sync.source, 'price.read').readPricePage({ mode: input.mode, cursor: input.cursor ?? null, limit: input.limit, priceLists: priceListsOf(mapping) });
  const quarantine: QuarantineRecord[] = page.rejected.map((r) => ({
    scope: sync.name,
    entity: 'price',
    recordKey: r.recordKey,
    reason: r.reason,
    kind: 'validation',
    category: r.category,
    subject: r.subject,
    target: '',
    payload: r.payload,
  }));
  const skusRead = [...new Set(page.entries.map((entry) => entry.sku))];
  const refusedSkus = new Set<string>();
  const changesByTarget = new Map<string, StagedItem[]>();
  const inSyncByTarget = new Map<string, string[]>();
  let nextChangeAt: string | undefined;

  for (const target of sync.targets) {
    const channel = mapping.channels[target]!;
    const computed = computeChannelPrices(page.entries, channel, target, at);
    if (computed.nextChangeAt !== undefined && (nextChangeAt === undefined || computed.nextChangeAt < nextChangeAt)) nextChangeAt = computed.nextChangeAt;
    for (const rejected of computed.rejected) {
      refusedSkus.add(rejected.subject);
      quarantine.push({ scope: sync.name, entity: 'price', recordKey: rejected.recordKey, reason: rejected.reason, kind: 'validation', category: rejected.category, subject: rejected.subject, target: '', payload: rejected.payload });
    }
    const scope = { syncName: sync.name, target, entity: 'price' };
    const snapshot = await deps.store.loadSnapshot(scope, computed.prices.map((price) => price.sku));
    const differing: Array<{ price: ChannelPrice; value: string; previous: string | null }> = [];
    const inSync: string[] = [];
    for (const price of computed.prices) {
      const value = priceValueText(price);
      const previous = snapshot.get(snapshotKey(price.sku, '')) ?? null;
      if (previous === value) inSync.push(price.sku);
      else differing.push({ price, value, previous });
    }
    inSyncByTarget.set(target, inSync);
    // A SKU the channel recently refused as unmappable (it does not list it) is not sent again on
    // every run: it waits in the quarantine until the sync's recheck time, as stock does.
    const recheckSince = new Date(Date.now() - sync.unmappableRecheckMinutes * 60_000).toISOString();
    const parked = differing.length === 0 ? new Set<string>() : await deps.store.recentlyQuarantined(sync.name, 'price', 'unmappable', differing.map((c) => priceRecordKey(c.price.sku, target)), recheckSince);
    const changed = parked.size === 0 ? differing : differing.filter((c) => !parked.has(priceRecordKey(c.price.sku, target)));
    // The guard per change; the run's own limits (how many change at once) are checked when
    // every page is staged (guardRun).
    const changes: PriceChange[] = changed.map(({ price, previous }) => {
      const before = previous === null ? undefined : parsePriceValueText(previous);
      return { sku: price.sku, channel: target, next: price.price, nextNet: price.net, ...(before === undefined ? {} : { previous: before.price }), ...(price.cost === undefined ? {} : { cost: price.cost }) };
    });
    const verdict = guardPriceChanges(changes, { ...mapping.guard, maxChangedShare: 100, maxChangedCount: undefined }, { catalogueSize: 0 });
    const heldReasons = new Map(verdict.held.map((held) => [held.change.sku, held.reason]));
    const history = changed.length === 0 ? new Map() : await deps.store.priceHistorySince(target, changed.map((c) => c.price.sku), new Date(Date.parse(at) - OMNIBUS_DAYS * DAY_MS).toISOString());
    changesByTarget.set(
      target,
      changed.map(({ price, value, previous }) => {
        const lowest = lowestPriorPrice(history.get(price.sku) ?? [], at);
        const item: StagedItem = { key: price.sku, part: '', value, previous };
        const held = heldReasons.get(price.sku);
        if (held !== undefined) item.held = held;
        if (lowest !== undefined && lowest.currency === price.price.currency) item.extra = { lowest } satisfies StagedPriceExtra;
        return item;
      }),
    );
  }
  const cleanSubjects = new Map<string, string[]>([['', skusRead.filter((sku) => !refusedSkus.has(sku))]]);
  for (const [target, skus] of inSyncByTarget) cleanSubjects.set(target, skus);
  return {
    recordsRead: skusRead.length,
    changesByTarget,
    quarantine,
    cleanSubjects,
    adjusted: 0,
    adjustedExamples: [],
    nextCursor: page.nextCursor,
    resumeCursor: page.resumeCursor,
    ...(nextChangeAt === undefined ? {} : { nextChangeAt }),
  };
}

export const priceEngine: EntityEngine = {
  spec: priceEntity as EntityEngine['spec'],
  planPage: planPricePage,
  writer(deps, _sync, targetId) {
    const target = deps.connectors.operation(targetId, 'price.write');
    return {
      batchSize: writeBatchSize(deps.config.connectors.get(targetId)?.manifest, 'price.write'),
      // The target spreads one call over its own calls (Shopify: one per product) and paces them.
      maxConcurrentCalls: 1,
      prepare: async (_items, signal) => ({ write: (items, key) => target.setPrices(items.map(toPriceUpdate), key, signal) }),
      priceHistoryOf: (items, since) =>
        items.map((item) => {
          const update = toPriceUpdate(item);
          return { sku: item.key, since, amount: update.price.amount, currency: update.price.currency, compareAt: update.compareAt?.amount ?? null };
        }),
    };
  },
  recordKey: (item, target) => priceRecordKey(item.key, target),
  payloadOf: (item, target) => ({ ...toPriceUpdate(item), previous: item.previous === null ? null : parsePriceValueText(item.previous), target }),
  describeChange(item, target) {
    const next = toPriceUpdate(item);
    const previous = item.previous === null ? undefined : parsePriceValueText(item.previous);
    const was = next.compareAt ? ` (was ${next.compareAt.amount})` : '';
    const held = item.held === undefined ? '' : ` [held: ${item.held}]`;
    return `would set ${target} ${item.key}: ${previous === undefined ? 'never pushed' : `${previous.price.amount} ${previous.price.currency}`} → ${next.price.amount} ${next.price.currency}${was}${held}`;
  },
};
