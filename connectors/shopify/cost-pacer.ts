/**
 * Client-side model of Shopify's cost-based leaky bucket, so a connector spends points at the
 * restore rate instead of discovering the limit through THROTTLED responses.
 *
 * The estimate starts optimistic (a full bucket), is charged the requested cost before each
 * call, refunded what the server did not charge, and pulled down to the server's own figure
 * (`extensions.cost.throttleStatus`) whenever that is lower, which is how it learns about other
 * workers spending from the same shop's bucket.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { configError } from '../../core/errors';

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface PacerClock {
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: PacerClock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await sleepFor(ms, undefined, signal === undefined ? undefined : { signal });
  },
};

/**
 * The clock a pacer waits on, telling `waited` how long each of its waits lasted (metrics): the
 * pacer's only waits are for points, so every one is time a call was held back by our own model.
 */
export function clockReportingWaits(clock: PacerClock, waited: (ms: number) => void): PacerClock {
  return {
    now: () => clock.now(),
    sleep: async (...args: Parameters<PacerClock['sleep']>) => {
      const started = clock.now();
      try {
        await clock.sleep(...args);
      } finally {
        waited(Math.max(0, clock.now() - started));
      }
    },
  };
}

export class CostPacer {
  private available: number;
  private updatedAt: number;
  private restoreRate: number;
  private bucketSize: number;

  constructor(
    options: { restoreRate: number; bucketSize: number },
    private readonly clock: PacerClock = systemClock,
  ) {
    this.restoreRate = options.restoreRate;
    this.bucketSize = options.bucketSize;
    this.available = options.bucketSize;
    this.updatedAt = clock.now();
  }

  /** Points the model believes are available now. */
  estimate(): number {
    this.refill();
    return this.available;
  }

  /**
   * Waits until `cost` points are available and takes them. A cost larger than the bucket can
   * never be paid: it is refused at once rather than sent to be THROTTLED for ever.
   * When `signal` aborts (a cancelled push, a worker shutting down) the wait ends at once with
   * the signal's reason and nothing is taken: a call not yet sent is the cheapest to give up.
   */
  async acquire(cost: number, signal?: AbortSignal): Promise<void> {
    if (cost > this.bucketSize) {
      throw configError(`a Shopify call costing ${cost} points can never run: the shop's bucket holds ${this.bucketSize} points`);
    }
    for (;;) {
      signal?.throwIfAborted();
      this.refill();
      if (this.available >= cost) {
        this.available -= cost;
        return;
      }
      const waitMs = Math.ceil(((cost - this.available) / this.restoreRate) * 1000);
      await this.clock.sleep(Math.max(1, waitMs), signal);
    }
  }

  /** Gives back points charged for a call the server charged less for (or not at all). */
  refund(points: number): void {
    this.refill();
    this.available = Math.min(this.bucketSize, this.available + Math.max(0, points));
  }

  /** Adopts the server's view when it is more pessimistic than ours, and its plan figures. */
  observe(status: ThrottleStatus): void {
    this.refill();
    this.restoreRate = status.restoreRate;
    this.bucketSize = status.maximumAvailable;
    this.available = Math.min(this.available, status.currentlyAvailable);
  }

  /** Milliseconds until `cost` points are back, given the server says `currentlyAvailable`. */
  waitFor(cost: number, currentlyAvailable: number): number {
    return Math.ceil((Math.max(0, cost - currentlyAvailable) / this.restoreRate) * 1000);
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.available = Math.min(this.bucketSize, this.available + elapsed * this.restoreRate);
    this.updatedAt = now;
  }
}
