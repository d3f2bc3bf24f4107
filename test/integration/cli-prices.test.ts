/**
 * `omnisync prices held | approve | reject | history` as an operator runs them: real CLI
 * processes, real exit codes, output verbatim, against a real Temporal dev server and a real
 * state store (SQLite).
 *
 * The decision on a run that does hold prices (approve pushes them, reject pushes nothing) is
 * tested end to end in price-sync-e2e.test.ts. Here: what the commands say when nothing waits,
 * for runs that do not exist, have ended or wait for nothing, a waiting run whose worker does
 * not answer, and the price history with its EU Omnibus line.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestEnvironment } from '../support/temporal';
import { createHubFixture, TEST_SHOPIFY_TOKEN, type HubFixture } from '../support/hub-fixture';
import { omnisync } from '../support/cli';
import { openStateStore } from '../../state/kysely-store';
import { decideHeldPrices, listHeldPrices } from '../../cli/commands/prices';
import { PRICE_SYNC_WORKFLOW_TYPE } from '../../workflows/price-sync';
import { SA_ENTITY, SA_SYNC_NAME, SA_WAITING_FOR } from '../../workflows/search-attributes';
import { WAITING_FOR_PRICE_GUARD } from '../../workflows/sync-engine';

const SYNC = 'erp-prices-to-shopify';
/** A task queue no worker serves: the runs started here stay where they are. */
const IDLE_QUEUE = 'omnisync-cli-prices-idle';
const DAY_MS = 24 * 60 * 60 * 1000;
const CLI_ENV = { SHOPIFY_ACCESS_TOKEN: TEST_SHOPIFY_TOKEN };

describe('omnisync prices', () => {
  let env: TestWorkflowEnvironment;
  let hub: HubFixture;
  const cli = (...args: string[]) => omnisync(['--config', hub.configFile, 'prices', ...args], CLI_ENV);

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await createHubFixture({ temporalAddress: env.address, products: 20, pageSize: 20, taskQueue: 'omnisync-cli-prices', priceSync: { name: SYNC } });
  });

  afterAll(async () => {
    await hub?.close();
    await env?.teardown();
  });

  /** A price run nobody works on, with these search attributes. */
  const startIdleRun = (workflowId: string, waiting: boolean) =>
    env.client.workflow.start(PRICE_SYNC_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: IDLE_QUEUE,
      args: [{ syncName: SYNC, mode: 'full' }],
      typedSearchAttributes: [
        { key: SA_ENTITY, value: 'price' },
        { key: SA_SYNC_NAME, value: SYNC },
        ...(waiting ? [{ key: SA_WAITING_FOR, value: WAITING_FOR_PRICE_GUARD }] : []),
      ],
    });

  describe('held, approve, reject', () => {
    it('held: says so when no run waits, exit 0', async () => {
      const run = await cli('held');
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('no price runs wait for a decision\n');
      expect(run.code).toBe(0);
    });

    it('approve and reject: a run that does not exist is refused with exit 2', async () => {
      for (const verb of ['approve', 'reject']) {
        const run = await cli(verb, 'price-sync:no-such-sync:full-2026-01-01T00:00:00Z');
        expect(run.code, verb).toBe(2);
        expect(run.stderr).toBe('no run with workflow id "price-sync:no-such-sync:full-2026-01-01T00:00:00Z" (omnisync prices held lists the runs that wait for a decision)\n');
        expect(run.stdout).toBe('');
      }
    });

    it('approve: a run that has ended is refused with exit 2', async () => {
      const id = `price-sync:${SYNC}:full-ended`;
      const handle = await startIdleRun(id, true);
      await handle.terminate('test: an ended run');
      const run = await cli('approve', id);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`${id}: the run has ended (terminated); nothing of it waits for a decision\n`);
      expect(run.stdout).toBe('');
    });

    it('reject: a running run that holds nothing is refused with exit 2, before anything is sent', async () => {
      const id = `price-sync:${SYNC}:full-staging`;
      const handle = await startIdleRun(id, false);
      try {
        const run = await cli('reject', id);
        expect(run.code).toBe(2);
        expect(run.stderr).toBe(`${id}: this run holds no changes that wait for a decision (a priceSync run, not waiting for the price guard)\n`);
        // Nothing was sent to the run: its history holds no update.
        const events = (await handle.fetchHistory()).events ?? [];
        expect(events.some((event) => event.workflowExecutionUpdateAdmittedEventAttributes || event.workflowExecutionUpdateAcceptedEventAttributes)).toBe(false);
      } finally {
        await handle.terminate('test done');
      }
    });

    it('held: lists a waiting run with its sync, also when no worker answers what it holds', async () => {
      const id = `price-sync:${SYNC}:full-waiting`;
      const handle = await startIdleRun(id, true);
      const lines: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
      try {
        // Visibility may lag a moment behind the start.
        for (let tries = 0; ; tries++) {
          lines.length = 0;
          expect(await listHeldPrices(hub.config, { queryTimeoutMs: 1_000 })).toBe(0);
          if (lines.length > 1 || tries >= 20) break;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      } finally {
        log.mockRestore();
        await handle.terminate('test done');
      }
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(new RegExp(`^${id}  sync ${SYNC}, started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`));
      expect(lines[1]).toBe('  what it holds is unknown: the heldChanges query got no answer within 1 s; is a worker running?');
      expect(lines[2]).toBe('1 price run waits for a decision: omnisync prices approve|reject <workflow id>');
    });

    it('approve: a waiting run takes the decision only through its worker; without one the command says so, and a run that ends meanwhile gives exit 2', async () => {
      const id = `price-sync:${SYNC}:full-no-worker`;
      const handle = await startIdleRun(id, true);
      const errors: string[] = [];
      const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        errors.push(String(chunk));
        return true;
      });
      try {
        const decided = decideHeldPrices(hub.config, id, true, { hintAfterMs: 500 });
        for (let tries = 0; errors.length === 0 && tries < 100; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
        expect(errors).toEqual([`${id}: waiting for the run to take the decision (it needs a worker: is \`omnisync worker\` or \`omnisync dev\` running?)\n`]);
        // The decision passed the command's checks (the run waits for the price guard) and was
        // sent; no worker takes it, and the run ends first.
        await handle.terminate('test: the run ends before a worker takes the decision');
        expect(await decided).toBe(2);
        expect(errors[1]).toBe(`${id}: the run ended before it took the decision; nothing of it waits for a decision\n`);
      } finally {
        write.mockRestore();
        await handle.terminate('test done').catch(() => undefined);
      }
    });
  });

  describe('history', () => {
    const SKU = 'PL-000007';
    const ago = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();
    const since = { d45: ago(45), d40: ago(40), d20: ago(20), d10: ago(10), d1: ago(1) };

    beforeAll(async () => {
      const store = openStateStore(hub.config.stateStore);
      try {
        await store.migrate();
        await store.recordPriceHistory('shopify', [
          { sku: SKU, since: since.d40, amount: '129.99', currency: 'PLN', compareAt: null },
          { sku: SKU, since: since.d20, amount: '99.99', currency: 'PLN', compareAt: '129.99' },
          { sku: SKU, since: since.d10, amount: '129.99', currency: 'PLN', compareAt: null },
          { sku: SKU, since: since.d1, amount: '119.99', currency: 'PLN', compareAt: '129.99' },
        ]);
        // A second channel, unchanged for longer than the window: its price then counts.
        await store.recordPriceHistory('allegro', [{ sku: SKU, since: since.d45, amount: '125.00', currency: 'PLN', compareAt: null }]);
      } finally {
        await store.close();
      }
    });

    it('per channel, newest first, with the lowest price of the 30 days before now', async () => {
      const run = await cli('history', SKU);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(
        [
          `${SKU} at allegro, newest first:`,
          `  since ${since.d45}  125.00 PLN`,
          '  lowest price of the 30 days before now (EU Omnibus): 125.00 PLN',
          `${SKU} at shopify, newest first:`,
          `  since ${since.d1}  119.99 PLN  compare-at 129.99 PLN`,
          `  since ${since.d10}  129.99 PLN`,
          `  since ${since.d20}  99.99 PLN  compare-at 129.99 PLN`,
          `  since ${since.d40}  129.99 PLN`,
          '  lowest price of the 30 days before now (EU Omnibus): 99.99 PLN',
          '',
        ].join('\n'),
      );
    });

    it('--limit shortens the list, not the window of the Omnibus price', async () => {
      const run = await cli('history', SKU, '--limit', '1');
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(
        [
          `${SKU} at allegro, newest first:`,
          `  since ${since.d45}  125.00 PLN`,
          '  lowest price of the 30 days before now (EU Omnibus): 125.00 PLN',
          `${SKU} at shopify, newest first:`,
          `  since ${since.d1}  119.99 PLN  compare-at 129.99 PLN`,
          '  lowest price of the 30 days before now (EU Omnibus): 99.99 PLN',
          '',
        ].join('\n'),
      );
    });

    it('a SKU without history: says so, exit 0', async () => {
      const run = await cli('history', 'PL-999999');
      expect(run.code).toBe(0);
      expect(run.stdout).toBe('no price history for SKU PL-999999\n');
      expect(run.stderr).toBe('');
    });

    it('a bad --limit: exit 2', async () => {
      const run = await cli('history', SKU, '--limit', 'all');
      expect(run.code).toBe(2);
      expect(run.stderr).toBe('--limit must be a whole number of at least 1, got "all"\n');
      expect(run.stdout).toBe('');
    });
  });
});
