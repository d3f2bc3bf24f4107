/**
 * stockSync: the pull-sync engine (sync-engine.ts) for stock. Its activity types and results are
 * those of the histories recorded before the engine was shared (test/histories), which must keep
 * replaying.
 */
import { runSync, type SyncInput, type SyncProgress } from './sync-engine';

export const STOCK_SYNC_WORKFLOW_TYPE = 'stockSync';
export { progressQuery, STOP_AT_MAX_PAGES_PATCH } from './sync-engine';
export type StockSyncProgress = SyncProgress;
export type StockSyncInput = SyncInput;

export async function stockSync(input: StockSyncInput): Promise<StockSyncProgress> {
  return runSync('stock', input);
}
