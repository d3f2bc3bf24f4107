/**
 * The sandbox shop from an integrator's own catalogue file (sandbox/shopify/catalog-file.ts):
 * CSV or JSON, read precisely or refused with the file's line; the simulator lists exactly
 * those products at those locations, and its saved state belongs to that catalogue.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CatalogFileError, readShopCatalog } from '../../sandbox/shopify/catalog-file';
import { startShopifySimulator, StateFileError } from '../../sandbox/shopify/server';
import { DEMO_SHOPIFY_LOCATIONS } from '../../sandbox/demo-catalog';

const dir = mkdtempSync(join(tmpdir(), 'omnisync-catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('shop catalogue files', () => {
  it('reads a CSV with semicolons, a BOM, Polish names and decimal-comma prices', () => {
    const catalog = readShopCatalog(file('shop.csv', '\uFEFFSKU;Name;Price\nKRZ-001;Krzesło dębowe;249,99\nSTO-002;Stół "Żuraw";1200\nPOL-003;Półka;\n'));
    expect(catalog.products).toEqual([
      { sku: 'KRZ-001', title: 'Krzesło dębowe', price: '249.99' },
      { sku: 'STO-002', title: 'Stół "Żuraw"', price: '1200.00' },
      { sku: 'POL-003', title: 'Półka', price: '0.00' },
    ]);
    expect(catalog.locations).toBeUndefined();
    expect(catalog.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads JSON with its own locations, ids given or numbered', () => {
    const catalog = readShopCatalog(
      file('shop.json', JSON.stringify({ products: [{ sku: 'A-1', name: 'A', price: 10 }], locations: ['Magazyn główny', { name: 'Sklep', id: 'gid://shopify/Location/9001' }] })),
    );
    expect(catalog.products).toEqual([{ sku: 'A-1', title: 'A', price: '10.00' }]);
    expect(catalog.locations).toEqual([
      { id: 'gid://shopify/Location/72001', name: 'Magazyn główny' },
      { id: 'gid://shopify/Location/9001', name: 'Sklep' },
    ]);
  });

  it('refuses what a shop could not hold, naming every line', () => {
    const problems = (name: string, content: string) => {
      try {
        readShopCatalog(file(name, content));
      } catch (err) {
        expect(err).toBeInstanceOf(CatalogFileError);
        return (err as Error).message.split('\n').slice(1).map((line) => line.trim());
      }
      throw new Error('expected a CatalogFileError');
    };
    expect(problems('dupes.csv', 'sku,name,price\nA-1,A,1\na-1,A again,2\nB-1,B,1.999\n')).toEqual([
      'line 3: SKU "a-1" is listed already at line 2 (letter case ignored)',
      'line 4: price "1.999" is not a decimal with at most 2 places (e.g. 19.99)',
    ]);
    expect(problems('header.csv', 'indeks,nazwa\nA,B\n')).toEqual(['line 1: expected a header with "sku" and "name" (or "title"), got "indeks,nazwa"']);
    expect(problems('empty.json', '{"products": []}')).toEqual(['products: expected at least one product']);
    expect(problems('shop.txt', 'sku,name\nA,B\n')).toEqual(['expected a .csv or .json file, got ".txt"']);
  });

  it('the simulator lists exactly the catalogue at its locations, and its saved state belongs to that catalogue', async () => {
    const catalog = readShopCatalog(file('rehearsal.csv', 'sku,name,price\nREH-1,One,5.50\nREH-2,Two,7\n'));
    const stateFile = join(dir, 'shopify-state.json');
    const shop = await startShopifySimulator({ accessToken: 'shpat_catalog', catalog, stateFile });
    const items = shop.store.inventorySnapshot();
    expect([...new Set(items.map((item) => item.sku))].sort()).toEqual(['REH-1', 'REH-2']);
    expect([...new Set(items.map((item) => item.locationId))].sort()).toEqual(DEMO_SHOPIFY_LOCATIONS.map((location) => location.id).sort());
    shop.store.setAvailable('REH-1', DEMO_SHOPIFY_LOCATIONS[0]!.id, 4); // a change, so there is a state to save
    await shop.close();
    // The same catalogue loads its saved state; another one is refused with what to do.
    const again = await startShopifySimulator({ accessToken: 'shpat_catalog', catalog, stateFile });
    expect(again.store.inventorySnapshot().find((item) => item.sku === 'REH-1' && item.locationId === DEMO_SHOPIFY_LOCATIONS[0]!.id)?.available).toBe(4);
    await again.close();
    const changed = readShopCatalog(file('rehearsal.csv', 'sku,name,price\nREH-1,One,5.50\nREH-3,Three,1\n'));
    await expect(startShopifySimulator({ accessToken: 'shpat_catalog', catalog: changed, stateFile })).rejects.toThrow(StateFileError);
    await expect(startShopifySimulator({ accessToken: 'shpat_catalog', catalog: changed, stateFile })).rejects.toThrow(/another version of the catalogue file; delete the file/);
    await expect(startShopifySimulator({ accessToken: 'shpat_catalog', stateFile })).rejects.toThrow(/written for a catalogue file/);
  });
});
