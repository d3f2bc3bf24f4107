/**
 * Pure translation between hub stock updates and Shopify's inventory shapes.
 */
import type { StockUpdate } from '../contract';

export interface InventoryQuantityInput {
  inventoryItemId: string;
  locationId: string;
  quantity: number;
  /**
   * Always null: the ERP is the source of truth for these quantities, so the write is absolute
   * and must not fail because a sale moved the figure in between (2026-04 requires the field).
   */
  changeFromQuantity: null;
}

export function toQuantityInputs(updates: readonly StockUpdate[], inventoryItemIdBySku: ReadonlyMap<string, string>): InventoryQuantityInput[] {
  return updates.map((update) => ({
    inventoryItemId: inventoryItemIdBySku.get(update.sku) ?? '',
    locationId: update.location,
    quantity: update.quantity,
    changeFromQuantity: null,
  }));
}

export interface UserError {
  code?: string | null;
  field?: string[] | null;
  message: string;
}

/**
 * The index of the input quantity a user error points at (`["input","quantities","3",...]`),
 * or undefined when the error concerns the whole call.
 */
export function quantityIndexOf(error: UserError): number | undefined {
  const field = error.field ?? [];
  const at = field.indexOf('quantities');
  if (at < 0) return undefined;
  const index = Number(field[at + 1]);
  return Number.isInteger(index) && index >= 0 ? index : undefined;
}
