/** The pure row mapper of the erp-sql connector: rounding to whole units and precise rejections. */
import { describe, expect, it } from 'vitest';
import { mapStockRow, sourceQuantity, type ErpStockRow } from '../../connectors/erp-sql/mapper';
import { DEMO_ERP_TABLES } from '../../sandbox/erp/schema';

function row(overrides: Partial<ErpStockRow> = {}): ErpStockRow {
  return {
    stock_key_0: 17,
    product_id: 5,
    location_id: 1,
    product_found: 5,
    location_found: 1,
    sku: 'PL-000005',
    location_code: 'MAG-WAW',
    on_hand: 12,
    reserved: 0,
    modified_at: '2025-03-01T10:00:00.123Z',
    modified_at_raw: '2025-03-01T10:00:00.123Z',
    not_for_sale: 0,
    ...overrides,
  };
}

describe('sourceQuantity', () => {
  it.each([
    [12, 12],
    [12.5, 12.5],
    [-1.5, -1.5],
    ['12.500', 12.5],
    ['12', 12],
    [' 7 ', 7],
    ['.5', 0.5],
    ['5.', 5],
    ['-0.250', -0.25],
    ['+4.1', 4.1],
    ['123456789012.345', 123456789012.345],
    [5n, 5],
  ] as const)('%s reads as %d, exactly', (value, expected) => {
    expect(sourceQuantity(value)).toEqual({ ok: true, value: expected });
  });

  it.each([
    [null, 'is empty (NULL)'],
    [undefined, 'is empty (NULL)'],
    ['abc', 'is not a number ("abc")'],
    ['12,5', 'is not a number ("12,5")'],
    ['', 'is not a number ("")'],
    ['.', 'is not a number (".")'],
    ['1e3', 'is not a number ("1e3")'],
    [Number.NaN, 'is not a finite number (NaN)'],
    [Number.POSITIVE_INFINITY, 'is not a finite number (Infinity)'],
    // A JS number would make this 13: more digits than a quantity is carried with are refused.
    ['12.9999999999999999', 'has more than 15 significant digits ("12.9999999999999999")'],
    [true, 'is not a number (true)'],
  ] as const)('%j is rejected: %s', (value, problem) => {
    expect(sourceQuantity(value)).toEqual({ ok: false, problem });
  });

  it('refuses a bigint beyond the safe integers', () => {
    expect(sourceQuantity(99999999999999999999n)).toEqual({ ok: false, problem: 'is out of range (99999999999999999999)' });
  });

  it('never returns negative zero', () => {
    const result = sourceQuantity('-0.000');
    expect(result.ok && Object.is(result.value, 0)).toBe(true);
  });
});

describe('mapStockRow', () => {
  it('maps a row: quantities exact (the mapping rounds them), codes trimmed', () => {
    expect(mapStockRow(row({ on_hand: '12.500', reserved: '0.250', sku: ' PL-000005  ', location_code: 'MAG-ZW ' }), DEMO_ERP_TABLES)).toEqual({
      ok: true,
      level: { sku: 'PL-000005', location: 'MAG-ZW', onHand: 12.5, reserved: 0.25, at: '2025-03-01T10:00:00.123Z' },
    });
  });

  it('without a modification column, takes the time the page was read, and names a composite key in messages', () => {
    const vendor = { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, id: ['towar_id', 'magazyn_id'], modifiedAt: undefined } };
    expect(mapStockRow(row({ modified_at: null, modified_at_raw: null }), vendor, '2026-12-02T10:00:00.000Z')).toMatchObject({ ok: true, level: { at: '2026-12-02T10:00:00.000Z' } });
    const bad = mapStockRow(row({ stock_key_0: 5, stock_key_1: 1, on_hand: 'abc', modified_at: null }), vendor, '2026-12-02T10:00:00.000Z');
    expect(bad).toMatchObject({ ok: false, rejection: { reason: expect.stringMatching(/in stany row towar_id=5, magazyn_id=1$/) } });
    if (!bad.ok) expect(bad.rejection.payload).toEqual(expect.objectContaining({ 'stany.towar_id': 5, 'stany.magazyn_id': 1 }));
  });

  it('keeps a negative on-hand quantity (an oversold ERP) as it is', () => {
    expect(mapStockRow(row({ on_hand: -2 }), DEMO_ERP_TABLES)).toMatchObject({ ok: true, level: { onHand: -2 } });
  });

  it.each<[string, Partial<ErpStockRow>, string, string]>([
    ['negative reserved', { reserved: '-2.000' }, 'zarezerwowano is negative (-2.000) in stany row 17', 'PL-000005|MAG-WAW'],
    ['null on hand', { on_hand: null }, 'ilosc is empty (NULL) in stany row 17', 'PL-000005|MAG-WAW'],
    ['null reserved', { reserved: null }, 'zarezerwowano is empty (NULL) in stany row 17', 'PL-000005|MAG-WAW'],
    ['non-numeric on hand', { on_hand: 'abc' }, 'ilosc is not a number ("abc") in stany row 17', 'PL-000005|MAG-WAW'],
    ['no modification time', { modified_at: null, modified_at_raw: null }, 'zmodyfikowano is empty (NULL) in stany row 17', 'PL-000005|MAG-WAW'],
    ['unparsable modification time', { modified_at: null, modified_at_raw: 'wczoraj' }, 'zmodyfikowano is not a date and time ("wczoraj") in stany row 17', 'PL-000005|MAG-WAW'],
    ['dangling product', { product_found: null, sku: null }, 'towar_id 5 matches no row in towary in stany row 17', 'stany#17'],
    ['dangling location', { location_found: null, location_code: null, location_id: 99 }, 'magazyn_id 99 matches no row in magazyny in stany row 17', 'stany#17'],
    ['empty SKU', { sku: '   ' }, "the product's indeks is empty in stany row 17", 'stany#17'],
    ['empty location code', { location_code: '' }, "the location's symbol is empty in stany row 17", 'stany#17'],
    ['SKU too long', { sku: 'X'.repeat(129) }, "the product's indeks is longer than 128 characters in stany row 17", `${'X'.repeat(129)}|MAG-WAW`],
  ])('rejects a row with %s, precisely', (_label, overrides, reason, recordKey) => {
    const result = mapStockRow(row(overrides), DEMO_ERP_TABLES);
    expect(result).toMatchObject({ ok: false, rejection: { reason, recordKey } });
  });

  it('names the SKU a bad row belongs to (its stock is incomplete), unless the product is missing', () => {
    expect(mapStockRow(row({ on_hand: null }), DEMO_ERP_TABLES)).toMatchObject({ ok: false, sku: 'PL-000005' });
    expect(mapStockRow(row({ product_found: null, sku: null }), DEMO_ERP_TABLES)).toMatchObject({ ok: false, sku: undefined });
  });

  it('puts the row in the rejection under the ERP column names', () => {
    const result = mapStockRow(row({ reserved: -1 }), DEMO_ERP_TABLES);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.rejection.payload).toEqual({
      'stany.id': 17,
      'stany.towar_id': 5,
      'stany.magazyn_id': 1,
      'towary.indeks': 'PL-000005',
      'magazyny.symbol': 'MAG-WAW',
      'stany.ilosc': 12,
      'stany.zarezerwowano': -1,
      'stany.zmodyfikowano': '2025-03-01T10:00:00.123Z',
    });
  });
});
