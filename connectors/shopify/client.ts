/**
 * Transport for the Shopify Admin GraphQL API: auth header, cost pacing, THROTTLED waits,
 * and translation of every failure into the hub's error taxonomy. Knows no business operation.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import pRetry from 'p-retry';
import { z } from 'zod';
import type { Logger } from 'pino';
import {
  OmnisyncError,
  authError,
  isTransientNetworkCode,
  kindForHttpStatus,
  parseRetryAfter,
  rateLimitedError,
  transientError,
  validationError,
} from '../../core/errors';
import { CostPacer, clockReportingWaits, type PacerClock, systemClock } from './cost-pacer';
import type { ConnectorMetrics } from '../../observability/metrics';

const ThrottleStatusSchema = z.object({
  maximumAvailable: z.number(),
  currentlyAvailable: z.number(),
  restoreRate: z.number(),
});

const GraphqlErrorSchema = z.object({
  message: z.string(),
  path: z.array(z.union([z.string(), z.number()])).optional(),
  extensions: z.object({ code: z.string().optional() }).passthrough().optional(),
});

const GraphqlResponseSchema = z.object({
  data: z.unknown().optional(),
  errors: z.union([z.array(GraphqlErrorSchema), z.string(), z.record(z.string(), z.unknown())]).optional(),
  extensions: z
    .object({
      cost: z
        .object({
          requestedQueryCost: z.number().nullable().optional(),
          actualQueryCost: z.number().nullable().optional(),
          throttleStatus: ThrottleStatusSchema,
        })
        .optional(),
    })
    .passthrough()
    .optional(),
});

export interface ShopifyClientOptions {
  connectorId: string;
  shopUrl: string;
  apiVersion: string;
  accessToken: string;
  restoreRate: number;
  bucketSize: number;
  timeoutMs: number;
  logger: Logger;
  /** Waits after a THROTTLED answer before giving the call back to Temporal. Default 5. */
  maxThrottledWaits?: number;
  /** Quick in-activity retries of a transient failure before Temporal's retry takes over. Default 2. */
  transientRetries?: number;
  clock?: PacerClock;
  /** Where points charged, the bucket's state and rate-limit waits are reported. Optional. */
  metrics?: ConnectorMetrics;
}

export class ShopifyGraphqlClient {
  private readonly http: AxiosInstance;
  readonly pacer: CostPacer;
  private readonly clock: PacerClock;

  constructor(private readonly options: ShopifyClientOptions) {
    this.clock = options.clock ?? systemClock;
    const { metrics } = options;
    const pacerClock = metrics === undefined ? this.clock : clockReportingWaits(this.clock, (ms) => metrics.rateLimitWait('pacer', ms));
    this.pacer = new CostPacer({ restoreRate: options.restoreRate, bucketSize: options.bucketSize }, pacerClock);
    this.http = axios.create({
      baseURL: `${options.shopUrl.replace(/\/$/, '')}/admin/api/${options.apiVersion}`,
      timeout: options.timeoutMs,
      headers: { 'X-Shopify-Access-Token': options.accessToken, 'Content-Type': 'application/json', Accept: 'application/json' },
      // Statuses are classified here, not thrown by axios, so each gets its error kind.
      validateStatus: () => true,
      transitional: { clarifyTimeoutError: true },
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 16 }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 16 }),
      // Redirects would resend the token to wherever they point.
      maxRedirects: 0,
    });
  }

  /**
   * Sends one GraphQL document and returns `data` validated by `schema`.
   * `requestedCost` is charged to the pacer before sending. When `signal` aborts, waits (for the
   * bucket, after THROTTLED, before a retry) end with its reason; a request already sent is
   * not aborted, because its effect must be known to be recorded.
   */
  async request<T>(operation: string, query: string, variables: Record<string, unknown>, requestedCost: number, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    return pRetry(() => this.requestOnce(operation, query, variables, requestedCost, schema, signal), {
      ...(signal === undefined ? {} : { signal }),
      retries: this.options.transientRetries ?? 2,
      minTimeout: 250,
      factor: 2,
      shouldRetry: ({ error }) => error instanceof OmnisyncError && error.retryable,
      // p-retry calls this before deciding whether to retry: wait and say "retrying" only when
      // it will (a last or permanent failure goes straight back to Temporal, Retry-After and all).
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft === 0 || !(error instanceof OmnisyncError) || !error.retryable) return;
        this.options.logger.warn({ connector: this.options.connectorId, operation, attempt: attemptNumber, err: error.message }, 'shopify call failed, retrying');
        if (error.retryAfterMs !== undefined && error.retryAfterMs > 0) await this.clock.sleep(error.retryAfterMs, signal);
      },
    });
  }

  private async requestOnce<T>(operation: string, query: string, variables: Record<string, unknown>, requestedCost: number, schema: z.ZodType<T>, signal: AbortSignal | undefined): Promise<T> {
    const maxWaits = this.options.maxThrottledWaits ?? 5;
    for (let throttledWaits = 0; ; throttledWaits++) {
      await this.pacer.acquire(requestedCost, signal);
      const body = await this.post(operation, query, variables, requestedCost);
      const cost = body.extensions?.cost;
      if (cost) {
        this.pacer.refund(requestedCost - (cost.actualQueryCost ?? 0));
        this.pacer.observe(cost.throttleStatus);
        const { currentlyAvailable, maximumAvailable, restoreRate } = cost.throttleStatus;
        this.options.metrics?.costCharged(cost.actualQueryCost ?? 0, { available: currentlyAvailable, capacity: maximumAvailable, restorePerSecond: restoreRate });
      }
      const errors = Array.isArray(body.errors) ? body.errors : [];
      const throttled = errors.find((e) => e.extensions?.code === 'THROTTLED');
      if (throttled) {
        const waitMs = this.pacer.waitFor(requestedCost, cost?.throttleStatus.currentlyAvailable ?? 0);
        if (throttledWaits >= maxWaits) {
          throw rateLimitedError(`shopify ${this.options.connectorId}: ${operation} throttled ${throttledWaits + 1} times in a row`, waitMs);
        }
        this.options.metrics?.rateLimitWait('throttled', waitMs);
        this.options.logger.debug({ connector: this.options.connectorId, operation, waitMs }, 'shopify throttled, waiting for the bucket');
        await this.clock.sleep(waitMs, signal);
        continue;
      }
      if (body.errors !== undefined && (!Array.isArray(body.errors) || body.errors.length > 0)) {
        const text = Array.isArray(body.errors)
          ? body.errors.map((e) => (e.extensions?.code ? `${e.message} (${e.extensions.code})` : e.message)).join('; ')
          : JSON.stringify(body.errors);
        throw validationError(`shopify ${this.options.connectorId}: ${operation} was rejected: ${text}`);
      }
      const data = schema.safeParse(body.data);
      if (!data.success) {
        const issue = data.error.issues[0];
        throw validationError(`shopify ${this.options.connectorId}: ${operation} returned an unexpected shape at data.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
      }
      return data.data;
    }
  }

  private async post(operation: string, query: string, variables: Record<string, unknown>, requestedCost: number): Promise<z.infer<typeof GraphqlResponseSchema>> {
    const label = `shopify ${this.options.connectorId}: ${operation}`;
    let response;
    try {
      response = await this.http.post('/graphql.json', { query, variables, operationName: undefined });
    } catch (err) {
      // Nothing was charged by a request that never got an answer.
      this.pacer.refund(requestedCost);
      if (isAxiosError(err) && (isTransientNetworkCode(err.code) || err.code === 'ETIMEDOUT')) {
        throw transientError(`${label} failed: ${err.code} ${err.message}`, { status: err.code, cause: err });
      }
      throw transientError(`${label} failed: ${(err as Error).message}`, { cause: err });
    }
    const status = response.status;
    if (status !== 200) {
      this.pacer.refund(requestedCost);
      const detail = typeof response.data === 'string' ? response.data.slice(0, 200) : JSON.stringify(response.data ?? '').slice(0, 200);
      const kind = kindForHttpStatus(status);
      const message = `${label} failed with HTTP ${status}: ${detail}`;
      if (kind === 'rate-limited') {
        const retryAfterMs = parseRetryAfter(response.headers['retry-after'] as string | undefined) ?? 1000;
        this.options.metrics?.rateLimitWait('http_429', retryAfterMs);
        throw rateLimitedError(message, retryAfterMs, status);
      }
      if (kind === 'auth') throw authError(`${label} was refused (HTTP ${status}): check the access token and its scopes`, status);
      throw new OmnisyncError(kind, message, { status });
    }
    const parsed = GraphqlResponseSchema.safeParse(response.data);
    if (!parsed.success) {
      throw validationError(`${label} answered HTTP 200 with a body that is not a GraphQL response`);
    }
    return parsed.data;
  }

  close(): void {
    (this.http.defaults.httpAgent as http.Agent | undefined)?.destroy();
    (this.http.defaults.httpsAgent as https.Agent | undefined)?.destroy();
  }
}
