/**
 * A Map bounded to `capacity` entries that drops the least recently used one when full: for
 * caches of things derived from a few recurring keys (prepared SQL statements, parsed GraphQL
 * documents), where an unexpected stream of distinct keys must not grow memory without end.
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`LruMap capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // A Map iterates in insertion order: re-inserting moves the key to the most recent end.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** The value for `key`, made by `create` (and kept) when absent. */
  getOrCreate(key: K, create: (key: K) => V): V {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const value = create(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
