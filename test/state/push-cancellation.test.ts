/**
 * A push that is cancelled (its run cancelled, or its worker shutting down past the grace time)
 * stops taking new calls: what it confirmed stays recorded, the attempt ends with the abort's
 * reason, and the retry pushes only what is left, counting every item once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { pushBatch } from '../../engine/push';
import { stockEngine } from '../../engine/stock';
import type { EngineDeps, EntityEngine, ItemWriter } from '../../engine/entity-engine';
import type { LoadedSync } from '../../config/load';
import type { StagedItem } from '../../core/model';
import { openStateStore } from '../../state/kysely-store';

const dir = mkdtempSync(join(tmpdir(), 'omnisync-push-cancel-'));
const store = openStateStore({ driver: 'sqlite', file: join(dir, 'state.sqlite') });
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const items: StagedItem[] = Array.from({ length: 40 }, (_, i) => ({ key: `SKU-${String(i).padStart(3, '0')}`, part: 'L1', value: String(i), previous: null }));

/** The stock engine writing through a fake target of 5 items a call, one call at a time. */
function engineWith(write: ItemWriter['write']): EntityEngine {
  return { ...stockEngine, writer: () => ({ batchSize: 5, maxConcurrentCalls: 1, prepare: async () => ({ write }) }) };
}

describe('a cancelled push', () => {
  it('stops after the call in flight, keeps what it confirmed, and its retry pushes the rest', async () => {
    await store.migrate();
    await store.stageItems('cancel-batch', 'shop', items);
    const deps = { store, logger: pino({ level: 'silent' }) } as unknown as EngineDeps;
    const sync = { name: 'cancel-sync' } as LoadedSync;
    const written: string[] = [];
    const abort = new AbortController();
    const write: ItemWriter['write'] = async (chunk) => {
      written.push(...chunk.map((item) => item.key));
      if (written.length === 10) abort.abort(new Error('worker shutting down'));
      return chunk.map((item) => ({ key: { key: item.key, part: item.part }, ok: true as const }));
    };
    const progress = { pushed: 0, failed: 0 };
    await expect(pushBatch(deps, engineWith(write), sync, { syncName: sync.name, batchId: 'cancel-batch', target: 'shop' }, progress, abort.signal)).rejects.toThrow('worker shutting down');
    // The call in flight when it was cancelled finished and is recorded; no new call started.
    expect(written).toHaveLength(10);
    expect(progress).toEqual({ pushed: 10, failed: 0 });
    expect(await store.loadPendingItems('cancel-batch', 'shop')).toHaveLength(30);

    const retried = await pushBatch(deps, engineWith(write), sync, { syncName: sync.name, batchId: 'cancel-batch', target: 'shop' }, { pushed: 0, failed: 0 });
    expect(written).toHaveLength(40);
    expect(new Set(written).size).toBe(40);
    expect(retried).toEqual({ pushed: 40, failed: 0 });
  });
});
