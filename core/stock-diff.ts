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

/**
 * The updates whose quantity differs from the snapshot's. The snapshot holds each value as the
 * state store keeps every entity's values: canonical text (the quantity in decimal digits).
 */
export function diffAgainstSnapshot(desired: readonly StockUpdate[], snapshot: ReadonlyMap<string, string>): StagedStockItem[] {
  const changed: StagedStockItem[] = [];
  for (const update of desired) {
    const previous = snapshot.get(snapshotKey(update.sku, update.location));
    if (previous !== undefined && Number(previous) === update.quantity) continue;
    changed.push({ sku: update.sku, location: update.location, quantity: update.quantity, previousQuantity: previous === undefined ? null : Number(previous) });
  }
  return changed;
}
