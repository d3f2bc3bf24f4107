import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { authError, kindForHttpStatus, MAX_FAILURE_MESSAGE_CHARS, parseRetryAfter, rateLimitedError, toApplicationFailure, transientError, validationError } from '../../core/errors';
import { idempotencyKey } from '../../core/idempotency';

describe('error taxonomy', () => {
  it('classifies HTTP statuses', () => {
    expect([429, 408, 500, 502, 503, 401, 403, 404, 400, 422].map(kindForHttpStatus)).toEqual([
      'rate-limited', 'transient', 'transient', 'transient', 'transient', 'auth', 'auth', 'not-found', 'validation', 'validation',
    ]);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('turns a 429 into a retryable failure that waits as long as the server asked', () => {
    const failure = toApplicationFailure(rateLimitedError('shopify shopify: throttled', 4000, 429));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe('OmnisyncRateLimitedError');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(4000);
  });

  it('makes auth failures non-retryable and unknown errors retryable', () => {
    expect(toApplicationFailure(authError('refused', 401)).nonRetryable).toBe(true);
    expect(toApplicationFailure(new Error('bug')).nonRetryable).toBe(false);
    expect(toApplicationFailure(transientError('reset')).type).toBe('OmnisyncTransientError');
  });

  it('cuts a long message to its start, and stacks to a few frames, so Temporal keeps the failure whole', () => {
    const long = `erp-sql: full read failed: ${'x'.repeat(5_000)}`;
    const failure = toApplicationFailure(validationError(long));
    expect(failure.message).toHaveLength(MAX_FAILURE_MESSAGE_CHARS);
    expect(failure.message.startsWith('erp-sql: full read failed: xxx')).toBe(true);
    expect(failure.message.endsWith(' … (4027 more characters)')).toBe(true);
    expect(failure.stack!.split('\n').length).toBeLessThanOrEqual(5);
    const unknown = toApplicationFailure(new Error('y'.repeat(3_000)));
    expect(unknown.message).toHaveLength(MAX_FAILURE_MESSAGE_CHARS);
    expect((unknown.cause as Error).message.length).toBeLessThanOrEqual(MAX_FAILURE_MESSAGE_CHARS / 2);
    expect(toApplicationFailure(validationError('short')).message).toBe('short');
  });
});

describe('idempotencyKey', () => {
  it('is stable for the same write and differs for another', () => {
    const a = idempotencyKey('batch-1|shopify', [['A', 'L', 1]]);
    expect(a).toBe(idempotencyKey('batch-1|shopify', [['A', 'L', 1]]));
    expect(a).not.toBe(idempotencyKey('batch-1|shopify', [['A', 'L', 2]]));
    expect(a).not.toBe(idempotencyKey('batch-2|shopify', [['A', 'L', 1]]));
    expect(a).toMatch(/^omnisync-[A-Za-z0-9_-]{40}$/);
  });
});
