/**
 * Delta detection against the last-pushed snapshot: only quantities that differ from what the
 * target was last confirmed to hold are pushed. This is what keeps a steady-state run at zero
 * writes and makes a repeated run after a crash cheap.
 */
import type { StagedStockItem, StockUpdate } from './model';

/** The key of one (SKU, target location) in a last-pushed snapshot. */
export function snapshotKey(sku: string, location: string): string {
  return `${sku}\u0000${location}`;
}

export function diffAgainstSnapshot(desired: readonly StockUpdate[], snapshot: ReadonlyMap<string, number>): StagedStockItem[] {
  const changed: StagedStockItem[] = [];
  for (const update of desired) {
    const previous = snapshot.get(snapshotKey(update.sku, update.location));
    if (previous === update.quantity) continue;
    changed.push({ sku: update.sku, location: update.location, quantity: update.quantity, previousQuantity: previous ?? null });
  }
  return changed;
}
