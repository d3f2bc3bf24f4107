/**
 * Seeded fault injection for the GraphQL endpoint. Each request draws its fault once, before
 * anything executes, so a faulted request never writes, except `applyThenFail`, which models
 * the real failure where the server commits and the answer is lost (the client must retry with
 * the same idempotency key and must not double-apply).
 */
import { z } from 'zod';
import { seededRandom } from '../demo-catalog';

export interface FaultConfig {
  /** Delay added before every GraphQL request is handled, in ms. Default 0. */
  latencyMs: number;
  /** Share of requests answered 502 or 503 without executing. Default 0. */
  serverErrorRate: number;
  /** Share of requests answered 429 with Retry-After without executing. Default 0. */
  tooManyRequestsRate: number;
  /** Retry-After seconds sent with injected 429s. Default 2 (Shopify REST's usual value). */
  retryAfterSeconds: number;
  /** Share of requests that are read and never answered, until the client gives up. Default 0. */
  timeoutRate: number;
  /** Share of requests whose socket is destroyed without a response. Default 0. */
  dropConnectionRate: number;
  /** Share of requests that execute (writes included) and are then answered 503. Default 0. */
  applyThenFailRate: number;
}

export const DEFAULT_FAULTS: FaultConfig = {
  latencyMs: 0,
  serverErrorRate: 0,
  tooManyRequestsRate: 0,
  retryAfterSeconds: 2,
  timeoutRate: 0,
  dropConnectionRate: 0,
  applyThenFailRate: 0,
};

const rate = z.number().min(0).max(1);

/** Validates a partial FaultConfig (sandbox admin endpoint, simulator options). */
export const faultConfigPatchSchema = z
  .object({
    latencyMs: z.number().int().min(0).max(600_000),
    serverErrorRate: rate,
    tooManyRequestsRate: rate,
    retryAfterSeconds: z.number().int().min(0).max(3600),
    timeoutRate: rate,
    dropConnectionRate: rate,
    applyThenFailRate: rate,
  })
  .partial()
  .strict();

const RATE_KEYS = ['serverErrorRate', 'tooManyRequestsRate', 'timeoutRate', 'dropConnectionRate', 'applyThenFailRate'] as const;

/** Formats zod issues as `path: message; ...` for the 400 body. */
function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
}

/**
 * Merges a patch into a config. The rates are shares of one draw per request, so they must sum
 * to at most 1. Throws a RangeError with a precise message otherwise.
 */
export function applyFaultPatch(current: FaultConfig, patch: unknown): FaultConfig {
  const parsed = faultConfigPatchSchema.safeParse(patch);
  if (!parsed.success) throw new RangeError(describeIssues(parsed.error));
  const next: FaultConfig = { ...current };
  for (const [key, value] of Object.entries(parsed.data) as [keyof FaultConfig, number | undefined][]) {
    if (value !== undefined) next[key] = value;
  }
  const total = RATE_KEYS.reduce((sum, key) => sum + next[key], 0);
  if (total > 1 + 1e-9) {
    throw new RangeError(`fault rates must sum to at most 1 (${RATE_KEYS.join(' + ')} = ${Number(total.toFixed(6))})`);
  }
  return next;
}

export type FaultKind = 'latency' | 'serverError' | 'tooManyRequests' | 'timeout' | 'dropConnection' | 'applyThenFail';

/** What happens to one request. `latencyMs` applies to every outcome except drop and timeout. */
export type FaultDecision =
  | { kind: 'none'; latencyMs: number }
  | { kind: 'serverError'; status: 502 | 503; latencyMs: number }
  | { kind: 'tooManyRequests'; retryAfterSeconds: number; latencyMs: number }
  | { kind: 'timeout' }
  | { kind: 'dropConnection' }
  | { kind: 'applyThenFail'; latencyMs: number };

/** Draws faults from a seeded PRNG: the same seed and request order give the same faults. */
export class FaultInjector {
  private config: FaultConfig;
  private readonly random: () => number;

  constructor(config: Partial<FaultConfig> = {}, seed = 1) {
    this.config = applyFaultPatch(DEFAULT_FAULTS, config);
    this.random = seededRandom(seed);
  }

  get current(): FaultConfig {
    return { ...this.config };
  }

  /** Validates and merges; throws RangeError (config unchanged) on bad input. */
  update(patch: unknown): FaultConfig {
    this.config = applyFaultPatch(this.config, patch);
    return this.current;
  }

  decide(): FaultDecision {
    const { latencyMs } = this.config;
    // One draw against cumulative bands: each rate is exactly the share of its outcome.
    const roll = this.random();
    let band = this.config.dropConnectionRate;
    if (roll < band) return { kind: 'dropConnection' };
    band += this.config.timeoutRate;
    if (roll < band) return { kind: 'timeout' };
    band += this.config.tooManyRequestsRate;
    if (roll < band) return { kind: 'tooManyRequests', retryAfterSeconds: this.config.retryAfterSeconds, latencyMs };
    band += this.config.serverErrorRate;
    if (roll < band) return { kind: 'serverError', status: this.random() < 0.5 ? 502 : 503, latencyMs };
    band += this.config.applyThenFailRate;
    if (roll < band) return { kind: 'applyThenFail', latencyMs };
    return { kind: 'none', latencyMs };
  }
}
