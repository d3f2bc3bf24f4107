/**
 * The error taxonomy (DESIGN.md §4 "Errors have types").
 *
 * Connectors throw these; activities turn them into Temporal `ApplicationFailure`s through
 * `toApplicationFailure` so that transient failures are retried by the activity's retry policy
 * (honouring Retry-After through `nextRetryDelay`) and permanent ones fail fast, with a `type`
 * an operator can filter on in the Temporal UI.
 */
import { ApplicationFailure } from '@temporalio/common';

export type ErrorKind =
  | 'transient'
  | 'rate-limited'
  | 'auth'
  | 'validation'
  | 'not-found'
  | 'unmappable'
  | 'config';

/** Failure types as they appear in Temporal (ApplicationFailure.type). Stable: operators filter on them. */
export const FAILURE_TYPES: Record<ErrorKind, string> = {
  transient: 'OmnisyncTransientError',
  'rate-limited': 'OmnisyncRateLimitedError',
  auth: 'OmnisyncAuthError',
  validation: 'OmnisyncValidationError',
  'not-found': 'OmnisyncNotFoundError',
  unmappable: 'OmnisyncUnmappableError',
  config: 'OmnisyncConfigError',
};

export class OmnisyncError extends Error {
  readonly kind: ErrorKind;
  /** Milliseconds the remote system asked us to wait (Retry-After), if it said so. */
  readonly retryAfterMs: number | undefined;
  /** HTTP status or driver code, when there was one. */
  readonly status: number | string | undefined;

  constructor(kind: ErrorKind, message: string, options: { retryAfterMs?: number; status?: number | string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = FAILURE_TYPES[kind];
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }

  get retryable(): boolean {
    return isRetryableKind(this.kind);
  }
}

export function isRetryableKind(kind: ErrorKind): boolean {
  return kind === 'transient' || kind === 'rate-limited';
}

export const transientError = (message: string, options?: { status?: number | string; cause?: unknown; retryAfterMs?: number }) =>
  new OmnisyncError('transient', message, options);
export const rateLimitedError = (message: string, retryAfterMs: number | undefined, status?: number) =>
  new OmnisyncError('rate-limited', message, { retryAfterMs, status });
export const authError = (message: string, status?: number) => new OmnisyncError('auth', message, { status });
export const validationError = (message: string, status?: number | string) => new OmnisyncError('validation', message, { status });
export const notFoundError = (message: string, status?: number) => new OmnisyncError('not-found', message, { status });
export const unmappableError = (message: string) => new OmnisyncError('unmappable', message);
export const configError = (message: string) => new OmnisyncError('config', message);

/**
 * Parses an HTTP Retry-After header (delta-seconds or HTTP-date) into milliseconds.
 * Returns undefined when absent or unparsable, so the retry policy's own backoff applies.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Classifies an HTTP status into an error kind. 408/425/429/5xx are transient; 401/403 auth;
 * 404 not found; other 4xx validation.
 */
export function kindForHttpStatus(status: number): ErrorKind {
  if (status === 429) return 'rate-limited';
  if (status === 408 || status === 425 || status >= 500) return 'transient';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  return 'validation';
}

/** Node/axios network error codes that mean "try again": the request may not have arrived. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EAI_AGAIN',
  'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET', 'ERR_CANCELED',
]);

export function isTransientNetworkCode(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_NETWORK_CODES.has(code);
}

/**
 * Converts any thrown value into the ApplicationFailure an activity should throw.
 * Unknown errors are treated as transient: a bug shows up as retries with its stack in the UI,
 * and a fix deployed to the worker lets the same execution complete, instead of losing it.
 */
export function toApplicationFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof OmnisyncError) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.name,
      nonRetryable: !err.retryable,
      nextRetryDelay: err.retryAfterMs,
      cause: err.cause instanceof Error ? err.cause : undefined,
      details: err.status === undefined ? [] : [{ status: err.status }],
    });
  }
  const error = err instanceof Error ? err : new Error(String(err));
  return ApplicationFailure.create({ message: error.message, type: FAILURE_TYPES.transient, nonRetryable: false, cause: error });
}

/** The outcome of one item in a batch write: one bad SKU never fails the other 249. */
export type ItemResult<K> =
  | { key: K; ok: true }
  | { key: K; ok: false; kind: ErrorKind; message: string };
