import { describe, expect, it } from 'vitest';
import { resolveSkus } from '../../connectors/shopify/sku-resolution';
import type { CrosswalkStore } from '../../state/store';

function memoryCrosswalk(): CrosswalkStore & { table: Map<string, string> } {
  const table = new Map<string, string>();
  return {
    table,
    async get(kind, keys) {
      return new Map(keys.flatMap((key) => (table.has(`${kind}|${key}`) ? [[key, table.get(`${kind}|${key}`)!] as [string, string]] : [])));
    },
    async put(kind, entries) {
      for (const [key, value] of entries) table.set(`${kind}|${key}`, value);
    },
  };
}

describe('SKU resolution', () => {
  it('a cancelled push stops looking up, keeps what it learned, and throws the reason', async () => {
    const crosswalk = memoryCrosswalk();
    const abort = new AbortController();
    const asked: string[][] = [];
    const skus = Array.from({ length: 10 }, (_, i) => `SKU-${i}`);
    const resolving = resolveSkus(skus, {
      crosswalk,
      kind: 'item',
      encode: (id: string) => id,
      decode: (text) => text,
      missingSkuRecheckMs: 60_000,
      lookupPage: 3,
      now: () => 0,
      signal: abort.signal,
      lookup: async (chunk) => {
        asked.push(chunk);
        abort.abort(new Error('worker shutting down')); // during the first lookup
        return new Map(chunk.map((sku) => [sku, [`id-${sku}`]]));
      },
    });
    await expect(resolving).rejects.toThrow('worker shutting down');
    expect(asked).toEqual([['SKU-0', 'SKU-1', 'SKU-2']]);
    // What the one lookup learned is kept: the retry does not ask for it again.
    expect([...crosswalk.table.keys()].sort()).toEqual(['item|SKU-0', 'item|SKU-1', 'item|SKU-2']);
  });
});
