/**
 * The error taxonomy (docs/architecture.md).
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
 * Most characters of a failure message we send to Temporal. The server keeps an activity's
 * last failure only while the whole failure (message, stack, causes) stays within a few KB
 * (2 KB by default); above that the UI shows "Failure exceeds size limit." instead of the
 * cause. Messages are cut here, keeping their start, and stacks to a few frames.
 */
export const MAX_FAILURE_MESSAGE_CHARS = 1_000;
/** Stack frames kept per failure (the first line, the message, is cut by MAX_FAILURE_MESSAGE_CHARS). */
const MAX_STACK_FRAMES = 4;

/** A message of at most MAX_FAILURE_MESSAGE_CHARS characters, its start kept. */
export function boundedMessage(message: string, max: number = MAX_FAILURE_MESSAGE_CHARS): string {
  if (message.length <= max) return message;
  const note = ` … (${message.length - max} more characters)`;
  return message.slice(0, max - note.length) + note;
}

/** A copy of `error` whose message and stack fit a failure (see MAX_FAILURE_MESSAGE_CHARS). */
function boundedCause(error: Error): Error {
  const cause = new Error(boundedMessage(error.message, MAX_FAILURE_MESSAGE_CHARS / 2));
  cause.name = error.name;
  cause.stack = boundedStack(error.stack, cause);
  return cause;
}

function boundedStack(stack: string | undefined, error: Error): string {
  const frames = (stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at ')).slice(0, MAX_STACK_FRAMES);
  return [`${error.name}: ${error.message}`, ...frames].join('\n');
}

/**
 * Converts any thrown value into the ApplicationFailure an activity should throw, with its
 * message and stacks bounded so Temporal keeps it whole (MAX_FAILURE_MESSAGE_CHARS).
 * Unknown errors are treated as transient: a bug shows up as retries with its stack in the UI,
 * and a fix deployed to the worker lets the same execution complete, instead of losing it.
 */
export function toApplicationFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  let failure: ApplicationFailure;
  if (err instanceof OmnisyncError) {
    failure = ApplicationFailure.create({
      message: boundedMessage(err.message),
      type: err.name,
      nonRetryable: !err.retryable,
      nextRetryDelay: err.retryAfterMs,
      cause: err.cause instanceof Error ? boundedCause(err.cause) : undefined,
      details: err.status === undefined ? [] : [{ status: err.status }],
    });
    failure.stack = boundedStack(err.stack, failure);
  } else {
    const error = err instanceof Error ? err : new Error(String(err));
    failure = ApplicationFailure.create({ message: boundedMessage(error.message), type: FAILURE_TYPES.transient, nonRetryable: false, cause: boundedCause(error) });
    failure.stack = boundedStack(error.stack, failure);
  }
  return failure;
}

/** The outcome of one item in a batch write: one bad SKU never fails the other 249. */
export type ItemResult<K> =
  | { key: K; ok: true }
  | { key: K; ok: false; kind: ErrorKind; message: string };
