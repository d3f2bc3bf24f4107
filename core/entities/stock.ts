/**
 * The stock entity: absolute quantities per SKU and target location. Its pure logic lives in
 * core/stock-mapping.ts (source levels → target quantities), core/stock-diff.ts (against the
 * last-pushed snapshot) and core/stock-limits.ts (what a target accepts).
 */
import { StockMapping, checkStockMapping } from '../stock-mapping';
import { defineEntity } from './spec';

export const STOCK_ENTITY = 'stock';

export const stockEntity = defineEntity<StockMapping>({
  entity: STOCK_ENTITY,
  readCapability: 'stock.read',
  writeCapability: 'stock.write',
  workflowType: 'stockSync',
  modes: ['delta', 'full'],
  mappingSchema: StockMapping,
  checkMapping: (mapping) => checkStockMapping(mapping),
  itemsPerRecord: (mapping) => mapping.locations.length,
});
