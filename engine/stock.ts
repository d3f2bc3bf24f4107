/**
 * The stock entity on the engine: ERP levels → target quantities per location (core/stock-mapping),
 * diffed against the snapshot (core/stock-diff), checked against the target's limits
 * (core/stock-limits), written through `stock.write`.
 *
 * Staged items: key = SKU, part = the target's location id, value = the quantity as text.
 */
import { computeTargetStock } from '../core/stock-mapping';
import { diffAgainstSnapshot } from '../core/stock-diff';
import { skuKey, type StagedItem, type StockCursor, type StockUpdate } from '../core/model';
import { QUARANTINE_CATEGORY } from '../core/quarantine-categories';
import { DEFAULT_STOCK_WRITE_LIMITS, stockLimitViolation, type StockWriteLimits } from '../core/stock-limits';
import { stockEntity } from '../core/entities/stock';
import { configError } from '../core/errors';
import { writeBatchSize, type StockWriter } from '../connectors/contract';
import type { LoadedConfig, LoadedStockSync, LoadedSync } from '../config/load';
import type { QuarantineRecord } from '../state/store';
import type { EngineDeps, EntityEngine, ItemWriter, PagePlan, PlanPageInput } from './entity-engine';

/** The quarantine key of one stock item at one target location. */
export function stockRecordKey(sku: string, target: string, location: string): string {
  return `${sku}|${target}|${location}`;
}

/** A target's declared stock limits (its manifest's writeLimits.stock), or the defaults. */
export function stockWriteLimitsOf(config: Pick<LoadedConfig, 'connectors'>, targetId: string): StockWriteLimits {
  return config.connectors.get(targetId)?.manifest.writeLimits?.stock ?? DEFAULT_STOCK_WRITE_LIMITS;
}

export function toStockUpdate(item: StagedItem): StockUpdate {
  return { sku: item.key, location: item.part, quantity: Number(item.value) };
}

/** Stock cursors the hub passes back to the source as they were written (it checks them). */
function stockCursor(cursor: unknown): StockCursor | null {
  if (cursor === null || cursor === undefined) return null;
  if (typeof cursor !== 'object' || !('strategy' in cursor)) throw configError(`stored stock cursor ${JSON.stringify(cursor)} is not a stock cursor`);
  return cursor as StockCursor;
}

async function planStockPage(deps: EngineDeps, loaded: LoadedSync, input: PlanPageInput): Promise<PagePlan> {
  const sync = loaded as LoadedStockSync;
  const limits = new Map(sync.targets.map((target) => [target, stockWriteLimitsOf(deps.config, target)]));
  const caseInsensitiveSkus = [...limits.values()].some((l) => l.caseInsensitiveSkus);
  const page = await deps.connectors
    .operation(sync.source, 'stock.read')
    .readStockPage({ mode: input.mode, cursor: stockCursor(input.cursor), limit: input.limit, caseInsensitiveSkus });
  const { updates, rejected, adjusted, zeroedNotForSale } = computeTargetStock(page.skus, page.levels, sync.stockMapping, new Set(page.notForSale));
  const quarantine: QuarantineRecord[] = [...page.rejected, ...rejected].map((r) => ({
    scope: sync.name,
    entity: 'stock',
    recordKey: r.recordKey,
    reason: r.reason,
    kind: r.category === QUARANTINE_CATEGORY.unmappedLocation ? 'unmappable' : 'validation',
    category: r.category,
    subject: r.subject,
    target: '',
    payload: r.payload,
  }));
  const refused = new Set(rejected.map((r) => r.subject));
  const excluded = new Set(sync.stockMapping.skus.exclude);
  const accepted = page.skus.filter((sku) => !refused.has(sku) && !excluded.has(sku));
  // Entries of duplicates name the SKU's key (skuKey), which may differ from the SKU in case.
  const cleanSubjects = new Map<string, string[]>([['', caseInsensitiveSkus ? [...accepted, ...accepted.map((sku) => skuKey(sku, true))] : accepted]]);

  const skus = [...new Set(updates.map((u) => u.sku))];
  const changesByTarget = new Map<string, StagedItem[]>();
  const recheckSince = new Date(Date.now() - sync.unmappableRecheckMinutes * 60_000).toISOString();
  for (const target of sync.targets) {
    const snapshot = await deps.store.loadSnapshot({ syncName: sync.name, target, entity: 'stock' }, skus);
    const sendable: StagedItem[] = [];
    const notInSync = new Set<string>();
    for (const item of diffAgainstSnapshot(updates, snapshot)) {
      notInSync.add(item.sku);
      const violation = stockLimitViolation(item, limits.get(target)!, target);
      if (violation === undefined) {
        sendable.push({ key: item.sku, part: item.location, value: String(item.quantity), previous: item.previousQuantity === null ? null : String(item.previousQuantity) });
        continue;
      }
      quarantine.push({
        scope: sync.name,
        entity: 'stock',
        recordKey: stockRecordKey(item.sku, target, item.location),
        reason: violation,
        kind: 'validation',
        category: QUARANTINE_CATEGORY.outsideTargetLimits,
        subject: item.sku,
        target,
        payload: { ...item, target },
      });
    }
    // A target that recently refused an item as unmappable (e.g. a SKU the shop does not list)
    // is not sent it again on every run: it waits in the quarantine until the recheck time.
    const keys = sendable.map((item) => stockRecordKey(item.key, target, item.part));
    const parked = keys.length === 0 ? new Set<string>() : await deps.store.recentlyQuarantined(sync.name, 'stock', 'unmappable', keys, recheckSince);
    changesByTarget.set(target, parked.size === 0 ? sendable : sendable.filter((_, i) => !parked.has(keys[i]!)));
    cleanSubjects.set(target, skus.filter((sku) => !notInSync.has(sku)));
  }
  return {
    recordsRead: page.skus.length,
    changesByTarget,
    quarantine,
    cleanSubjects,
    adjusted: adjusted.length,
    adjustedExamples: adjusted.slice(0, 5),
    ...(zeroedNotForSale.length > 0 ? { notForSale: zeroedNotForSale.length, notForSaleExamples: zeroedNotForSale.slice(0, 5) } : {}),
    nextCursor: page.nextCursor,
    resumeCursor: page.resumeCursor,
  };
}

function stockWriterOf(writer: StockWriter): ItemWriter {
  return { write: (items, key) => writer.setStock(items.map(toStockUpdate), key) };
}

export const stockEngine: EntityEngine = {
  spec: stockEntity as EntityEngine['spec'],
  planPage: planStockPage,
  writer(deps, _sync, targetId) {
    const target = deps.connectors.operation(targetId, 'stock.write');
    return {
      batchSize: writeBatchSize(deps.config.connectors.get(targetId)?.manifest, 'stock.write'),
      maxConcurrentCalls: target.maxConcurrentCalls,
      async prepare(items, signal) {
        if (target.preparePush === undefined || items.length === 0) return stockWriterOf(target);
        return stockWriterOf(await target.preparePush(items.map((item) => item.key), signal));
      },
    };
  },
  recordKey: (item, target) => stockRecordKey(item.key, target, item.part),
  payloadOf: (item, target) => ({ ...toStockUpdate(item), previousQuantity: item.previous === null ? null : Number(item.previous), target }),
  describeChange: (item, target) => `would set ${target} ${item.key} @ ${item.part}: ${item.previous ?? 'never pushed'} → ${item.value}`,
};
