import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { quantityFromDecimalText, toChannelUnits, unitRatio } from '../../core/quantity';

describe('quantities', () => {
  it('reads decimal text exactly, up to 15 significant digits', () => {
    expect(quantityFromDecimalText('0012.5000')).toEqual({ ok: true, value: 12.5 });
    expect(quantityFromDecimalText('999999999999.999')).toEqual({ ok: true, value: 999999999999.999 });
    expect(quantityFromDecimalText('1234567890123456')).toEqual({ ok: false, problem: 'has more than 15 significant digits ("1234567890123456")' });
    expect(quantityFromDecimalText('1,5')).toEqual({ ok: false, problem: 'is not a number ("1,5")' });
  });

  it('converts and rounds without binary error: 0.1 carton of 30 is 3 pieces, not 2', () => {
    expect(toChannelUnits(0.1, unitRatio(30), 'down')).toBe(3);
    expect(toChannelUnits(0.3, unitRatio('1/0.1'), 'down')).toBe(3);
    expect(toChannelUnits(-0.5, undefined, 'down')).toBe(-1);
    expect(Object.is(toChannelUnits(-0.4, undefined, 'up'), 0)).toBe(true);
    expect(toChannelUnits(2.5, undefined, 'nearest')).toBe(3);
  });

  it('property: a decimal of up to 3 places survives the number and rounds like its text', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: 1, max: 48 }), (thousandths, pack) => {
        const text = (thousandths / 1000).toFixed(3);
        const read = quantityFromDecimalText(text);
        expect(read.ok).toBe(true);
        if (!read.ok) return;
        expect(toChannelUnits(read.value, undefined, 'down')).toBe(Math.floor(thousandths / 1000) || 0);
        expect(toChannelUnits(read.value, undefined, 'up')).toBe(Math.ceil(thousandths / 1000) || 0);
        const pieces = thousandths * pack; // exact, in thousandths of a piece
        expect(toChannelUnits(read.value, unitRatio(pack), 'down')).toBe(Math.floor(pieces / 1000) || 0);
        expect(toChannelUnits(read.value, unitRatio(pack), 'up')).toBe(Math.ceil(pieces / 1000) || 0);
      }),
    );
  });
});
