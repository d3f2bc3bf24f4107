/**
 * priceSync: the pull-sync engine (sync-engine.ts) for prices, on its guarded path: every page
 * is staged, the run checked by the anomaly guard, held changes wait for an operator, and the
 * run waits for the next promotion start or end before the next scheduled run.
 */
import { runSync, type SyncInput, type SyncProgress } from './sync-engine';

export const PRICE_SYNC_WORKFLOW_TYPE = 'priceSync';
export { decideHeldChangesUpdate, heldChangesQuery, progressQuery, type HeldChanges, type HeldChangesDecision } from './sync-engine';

export async function priceSync(input: SyncInput): Promise<SyncProgress> {
  return runSync('price', input);
}
