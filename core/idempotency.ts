/**
 * Idempotency keys for writes: derived from what is written and the batch it belongs to, so a
 * retry of the same write carries the same key and the remote system applies it once.
 */
import { createHash } from 'node:crypto';

export function idempotencyKey(scope: string, parts: readonly unknown[]): string {
  const hash = createHash('sha256').update(scope).update('\n').update(JSON.stringify(parts)).digest('base64url');
  return `omnisync-${hash.slice(0, 40)}`;
}
