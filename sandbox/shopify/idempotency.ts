/**
 * Shopify's idempotency for mutations carrying `@idempotent(key:)`
 * (https://shopify.dev/docs/api/usage/implementing-idempotency): a duplicate request (same key,
 * same parameters) within the retention window gets the original result and changes nothing; the
 * same key with different parameters is refused.
 */
import { createHash } from 'node:crypto';

/** Shopify keeps idempotency keys for 24 hours. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

export type IdempotencyLookup<T> =
  | { kind: 'first-use' }
  | { kind: 'replay'; result: T }
  | { kind: 'parameter-mismatch' };

interface Entry<T> {
  fingerprint: string;
  result: T;
  storedAt: number;
}

/** One remembered key, as exported for the state file. */
export interface IdempotencyEntry<T> extends Entry<T> {
  key: string;
}

export class IdempotencyCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /**
   * @param now clock in ms; default `Date.now`
   * @param retentionMs how long a key is remembered; default 24 h
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly retentionMs: number = IDEMPOTENCY_RETENTION_MS,
  ) {}

  lookup(key: string, fingerprint: string): IdempotencyLookup<T> {
    this.evictExpired();
    const entry = this.entries.get(key);
    if (!entry) return { kind: 'first-use' };
    return entry.fingerprint === fingerprint ? { kind: 'replay', result: entry.result } : { kind: 'parameter-mismatch' };
  }

  remember(key: string, fingerprint: string, result: T): void {
    this.entries.delete(key); // re-insert so the map stays ordered by storedAt
    this.entries.set(key, { fingerprint, result, storedAt: this.now() });
  }

  /** The keys still within retention, oldest first. */
  export(): IdempotencyEntry<T>[] {
    this.evictExpired();
    return [...this.entries].map(([key, entry]) => ({ key, ...entry }));
  }

  /**
   * Replaces the cache with `entries` (keys must be unique), keeping their `storedAt`; those
   * already past retention are dropped.
   */
  restore(entries: readonly IdempotencyEntry<T>[]): void {
    this.entries.clear();
    for (const { key, ...entry } of [...entries].sort((a, b) => a.storedAt - b.storedAt)) this.entries.set(key, entry);
    this.evictExpired();
  }

  get size(): number {
    this.evictExpired();
    return this.entries.size;
  }

  /** Entries are in insertion (= time) order, so eviction stops at the first live one. */
  private evictExpired(): void {
    const cutoff = this.now() - this.retentionMs;
    for (const [key, entry] of this.entries) {
      if (entry.storedAt > cutoff) break;
      this.entries.delete(key);
    }
  }
}

/** Marks a fingerprint as a digest (state files written before digests hold the JSON itself). */
const FINGERPRINT_PREFIX = 'sha256:';

function digestOf(canonical: string): string {
  return FINGERPRINT_PREFIX + createHash('sha256').update(canonical).digest('base64');
}

/**
 * What tells a request's parameters apart: SHA-256 of their canonical JSON. Kept instead of the
 * JSON itself because an entry lives 24 h and a 250-item mutation's JSON is tens of kilobytes.
 */
export function requestFingerprint(parameters: unknown): string {
  return digestOf(canonicalJson(parameters));
}

/**
 * A fingerprint read from a state file, as requestFingerprint gives it. Files written before
 * fingerprints were digests hold the canonical JSON itself, which is digested here, so their
 * keys still replay.
 */
export function storedFingerprint(stored: string): string {
  return stored.startsWith(FINGERPRINT_PREFIX) ? stored : digestOf(stored);
}

/**
 * JSON with object keys sorted, so the fingerprint does not depend on key order. Explicit null is
 * kept; undefined (omitted) is dropped: the two differ. Written as loops: it runs over every
 * quantity of every mutation.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(record).sort()) {
    const field = record[key];
    if (field === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(field)}`;
  }
  return `${out}}`;
}
