import { describe, expect, it } from 'vitest';
import { runSummary, type SyncProgress } from '../../workflows/sync-engine';

const base: SyncProgress = { syncName: 'erp-stock-to-shopify', mode: 'delta', pagesRead: 3, itemsRead: 120, itemsChanged: 40, itemsPushed: 38, itemsFailed: 0, itemsQuarantined: 0, executions: 1 };

describe('the one-line summary of a sync run', () => {
  it('says what a clean run did', () => {
    expect(runSummary(base)).toBe('sync erp-stock-to-shopify (delta) done: 120 read, 40 changed, 38 pushed');
  });

  it('names failures, held changes, products not for sale and the quarantine by category, most first', () => {
    expect(
      runSummary({ ...base, itemsFailed: 2, itemsHeld: 5, recordsNotForSale: 7, itemsQuarantined: 3, quarantinedByCategory: { 'duplicate key in source': 1, 'invalid source row': 2 } }),
    ).toBe(
      'sync erp-stock-to-shopify (delta) done: 120 read, 40 changed, 38 pushed, 2 failed at targets (quarantined), 5 held by the guard, 7 not for sale (0 everywhere), 3 quarantined while staging (2 × invalid source row, 1 × duplicate key in source)',
    );
  });
});
