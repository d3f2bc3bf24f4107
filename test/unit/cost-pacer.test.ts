import { describe, expect, it } from 'vitest';
import { CostPacer, type PacerClock } from '../../connectors/shopify/cost-pacer';
import { quantityIndexOf } from '../../connectors/shopify/mapper';
import { skuSearchQuery } from '../../connectors/shopify/operations';

function fakeClock(): PacerClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('CostPacer', () => {
  it('spends the bucket, then paces at the restore rate', async () => {
    const clock = fakeClock();
    const pacer = new CostPacer({ restoreRate: 100, bucketSize: 30 }, clock);
    await pacer.acquire(10);
    await pacer.acquire(10);
    await pacer.acquire(10);
    expect(clock.slept).toEqual([]);
    await pacer.acquire(10);
    expect(clock.slept).toEqual([100]);
  });

  it('ends a wait for the bucket as soon as the signal aborts, taking nothing', async () => {
    const pacer = new CostPacer({ restoreRate: 1, bucketSize: 100 });
    await pacer.acquire(100);
    const controller = new AbortController();
    const started = performance.now();
    const waiting = pacer.acquire(50, controller.signal);
    setTimeout(() => controller.abort(new Error('worker shutting down')), 20);
    await expect(waiting).rejects.toThrow();
    // The wait was 50 s at 1 point/s; the abort ended it at once.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(pacer.estimate()).toBeLessThan(50);
    const aborted = new AbortController();
    aborted.abort(new Error('already cancelled'));
    await expect(pacer.acquire(1, aborted.signal)).rejects.toThrow('already cancelled');
  });

  it('adopts a lower server figure and refunds unspent points', async () => {
    const clock = fakeClock();
    const pacer = new CostPacer({ restoreRate: 50, bucketSize: 1000 }, clock);
    await pacer.acquire(502);
    pacer.refund(500);
    expect(pacer.estimate()).toBe(998);
    pacer.observe({ maximumAvailable: 1000, currentlyAvailable: 400, restoreRate: 50 });
    expect(pacer.estimate()).toBe(400);
    expect(pacer.waitFor(500, 400)).toBe(2000);
  });
});

describe('shopify mapper', () => {
  it('finds the quantity a user error points at', () => {
    expect(quantityIndexOf({ field: ['input', 'quantities', '3', 'inventoryItemId'], message: 'x' })).toBe(3);
    expect(quantityIndexOf({ field: ['input', 'reason'], message: 'x' })).toBeUndefined();
    expect(quantityIndexOf({ field: null, message: 'x' })).toBeUndefined();
  });

  it('quotes and escapes SKUs in search queries', () => {
    expect(skuSearchQuery(['PL-1', 'A "B"'])).toBe('sku:"PL-1" OR sku:"A \\"B\\""');
  });
});

describe('CostPacer limits', () => {
  it('refuses a call that costs more than the bucket can ever hold', async () => {
    const pacer = new CostPacer({ restoreRate: 50, bucketSize: 100 }, fakeClock());
    await expect(pacer.acquire(502)).rejects.toThrow("a Shopify call costing 502 points can never run: the shop's bucket holds 100 points");
  });

  it('sizes SKU lookups to fit the bucket', async () => {
    const { variantLookupPageFor } = await import('../../connectors/shopify/operations');
    expect(variantLookupPageFor(10_000)).toBe(250);
    expect(variantLookupPageFor(500)).toBe(249);
    expect(variantLookupPageFor(100)).toBe(49);
  });
});
