import { describe, expect, it } from 'vitest';
import { LruMap } from '../../core/lru-map';

describe('LruMap', () => {
  it('creates a value once per key and returns the kept one afterwards', () => {
    const map = new LruMap<string, number>(3);
    let made = 0;
    const make = () => ++made;
    expect(map.getOrCreate('a', make)).toBe(1);
    expect(map.getOrCreate('a', make)).toBe(1);
    expect(made).toBe(1);
  });

  it('drops the least recently used key when full; a read counts as use', () => {
    const map = new LruMap<string, string>(2);
    map.getOrCreate('a', () => 'A');
    map.getOrCreate('b', () => 'B');
    expect(map.get('a')).toBe('A'); // a is now the most recent
    map.getOrCreate('c', () => 'C');
    expect(map.size).toBe(2);
    expect(map.get('b')).toBeUndefined();
    expect(map.get('a')).toBe('A');
    expect(map.get('c')).toBe('C');
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new LruMap(0)).toThrow('LruMap capacity must be a positive integer, got 0');
  });
});
