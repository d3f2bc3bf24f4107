/**
 * Shopify's cost-based leaky bucket (one per app and shop), kept pure: the clock is injected so
 * tests can drive time instead of sleeping.
 *
 * Model (https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits): the bucket
 * starts full, refills continuously at `restoreRate` points per second up to `capacity`; a query
 * is admitted only if its *requested* cost is available, which is deducted up front; the
 * difference between requested and actual cost is refunded after execution.
 */

/** What Shopify reports in `extensions.cost.throttleStatus`. */
export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface LeakyBucketOptions {
  /** Maximum points the bucket holds; it starts full. */
  capacity: number;
  /** Points restored per second. */
  restoreRate: number;
  /** Clock in milliseconds. Default: `Date.now`. */
  now?: () => number;
}

export class LeakyBucket {
  readonly capacity: number;
  readonly restoreRate: number;
  private readonly now: () => number;
  private available: number;
  private updatedAt: number;

  constructor(options: LeakyBucketOptions) {
    if (!(options.capacity > 0)) throw new RangeError(`capacity must be positive, got ${options.capacity}`);
    if (!(options.restoreRate > 0)) throw new RangeError(`restoreRate must be positive, got ${options.restoreRate}`);
    this.capacity = options.capacity;
    this.restoreRate = options.restoreRate;
    this.now = options.now ?? Date.now;
    this.available = options.capacity;
    this.updatedAt = this.now();
  }

  /** Points available right now (fractional: restoring is continuous). */
  currentlyAvailable(): number {
    this.restore();
    return this.available;
  }

  /** Deducts `points` if that many are available; otherwise changes nothing and returns false. */
  tryTake(points: number): boolean {
    this.restore();
    if (points > this.available) return false;
    this.available -= points;
    return true;
  }

  /** Gives back points charged but not used (requested minus actual cost), never above capacity. */
  refund(points: number): void {
    if (points <= 0) return;
    this.restore();
    this.available = Math.min(this.capacity, this.available + points);
  }

  /** Status as Shopify reports it; currentlyAvailable is floored like Shopify's integers. */
  status(): ThrottleStatus {
    return {
      maximumAvailable: this.capacity,
      currentlyAvailable: Math.floor(this.currentlyAvailable()),
      restoreRate: this.restoreRate,
    };
  }

  private restore(): void {
    const now = this.now();
    // A clock that goes backwards (tests, NTP) must not drain the bucket.
    const elapsedSeconds = Math.max(0, now - this.updatedAt) / 1000;
    this.available = Math.min(this.capacity, this.available + elapsedSeconds * this.restoreRate);
    this.updatedAt = now;
  }
}
