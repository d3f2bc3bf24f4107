/**
 * Failures as an operator needs to read them: the chain from a failed workflow down to the
 * error that caused it, with each failure's type and message, on one line. Temporal wraps the
 * cause (WorkflowFailedError → ActivityFailure → ApplicationFailure), and a log line or a CLI
 * message that shows only the outer layer says "Workflow execution failed" and nothing else.
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, RetryState, TimeoutFailure } from '@temporalio/common';

/** Failures followed down the cause chain at most (a cycle or a very deep chain stops here). */
const MAX_CHAIN = 6;

/**
 * One line: each failure of the chain, outermost first, joined by ": ", e.g.
 * `activity pushStockBatch failed (retries exhausted): OmnisyncTransientError: shopify shopify: …`.
 * Wrapper messages that say nothing ("Workflow execution failed", "Activity task failed") are
 * left out in favour of what they wrap.
 */
export function describeFailure(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CHAIN && current !== undefined && current !== null; depth++) {
    const part = describeOne(current);
    if (part !== undefined) parts.push(part);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}

/** Fields for a structured log line: the one-line description and the innermost failure's type. */
export function failureLogFields(err: unknown): { failure: string; failureType: string; nonRetryable?: boolean } {
  let innermost: unknown = err;
  for (let depth = 0; depth < MAX_CHAIN && innermost instanceof Error && innermost.cause instanceof Error; depth++) innermost = innermost.cause;
  const failureType = innermost instanceof ApplicationFailure ? (innermost.type ?? 'ApplicationFailure') : innermost instanceof Error ? innermost.name : typeof innermost;
  const nonRetryable = innermost instanceof ApplicationFailure ? innermost.nonRetryable === true : undefined;
  return { failure: describeFailure(err), failureType, ...(nonRetryable === undefined ? {} : { nonRetryable }) };
}

function describeOne(err: unknown): string | undefined {
  if (err instanceof ActivityFailure) return `activity ${err.activityType} failed${retryStateText(err.retryState)}`;
  if (err instanceof ChildWorkflowFailure) return `child workflow ${err.execution.workflowId} failed${retryStateText(err.retryState)}`;
  if (err instanceof TimeoutFailure) return `timed out (${String(err.timeoutType)})`;
  if (err instanceof ApplicationFailure) return `${err.type ?? 'ApplicationFailure'}: ${err.message}`;
  if (err instanceof Error) {
    if (isWrapperMessage(err.message) && err.cause !== undefined) return undefined;
    return err.name === 'Error' ? err.message : `${err.name}: ${err.message}`;
  }
  return String(err);
}

function isWrapperMessage(message: string): boolean {
  return /^(Workflow execution failed|Activity task failed|Child Workflow execution failed)$/i.test(message.trim());
}

function retryStateText(state: RetryState | null | undefined): string {
  switch (state) {
    case RetryState.MAXIMUM_ATTEMPTS_REACHED:
      return ' (retries exhausted)';
    case RetryState.NON_RETRYABLE_FAILURE:
      return ' (not retryable)';
    case RetryState.TIMEOUT:
      return ' (retry time exhausted)';
    default:
      return '';
  }
}
