/**
 * `omnisync sync run` through a Temporal server restart, as an operator runs it: the real CLI
 * process follows a full run from the ERP database to the Shopify simulator while the server
 * goes down for longer than one progress tick (5 s) and comes back on the same port with its data.
 *
 * The restart comes near the end of the run, so the run finishes soon after the server is back:
 * the result then tends to arrive while a progress query that met the stopped server waits in
 * the client's gRPC retry backoff. Closing the connection under it used to crash the CLI after it
 * printed its result (the retry timer fires on a closed channel: an uncaught
 * `Channel has been shut down`); a restart early in the run did not show it.
 *
 * Done when the CLI exits 0 after printing `done: ` with the run's counts, its stderr holds no
 * `Channel has been shut down` (previously thrown uncaught after the result was printed),
 * no error and no stack trace, and Shopify holds the ERP's stock.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { omnisync, type CliRun } from '../support/cli';
import { startWorkerProcess, waitFor } from '../support/worker-process';
import { createHubFixture, stockMismatches, TEST_SHOPIFY_TOKEN, type HubFixture } from '../support/hub-fixture';
import { startRestartableTemporal, type RestartableTemporal } from '../support/restartable-temporal';

const PRODUCTS = 600;
const SYNC = 'erp-stock-to-shopify';
/**
 * How long the server is down. Both are longer than the CLI's progress interval (5 s), so
 * progress queries meet a server that is gone. 8 s stays within the client's own retries of
 * its wait for the result (about 20 s in all); 25 s outlasts them, and the CLI must wait on by
 * itself (it used to report that as a failed run, exit 3, although the run went on).
 */
const SERVER_DOWN_TIMES_MS = [8_000, 25_000];
/** The server stops once all but this many items are written: the last pages of the run. */
const ITEMS_LEFT_AT_STOP = 250;
const CLI_TIMEOUT_MS = 120_000;

/** Items the simulator has written so far (one per SKU and location and applied mutation). */
const itemsWritten = (hub: HubFixture): number => Object.values(hub.shopify.store.stats().writesBySku).reduce((a, b) => a + b, 0);

describe.each(SERVER_DOWN_TIMES_MS)('sync run through a Temporal server restart, the server down %i ms', (SERVER_DOWN_MS) => {
  let temporal: RestartableTemporal | undefined;
  let hub: HubFixture | undefined;
  let cli: Promise<CliRun> | undefined;
  const workers: ChildProcess[] = [];
  let serverUp = false;
  let finished = false;

  const isRunning = (worker: ChildProcess | undefined): boolean => worker !== undefined && worker.exitCode === null && worker.signalCode === null;
  /** A worker process; should it exit while the server is up and the run goes on, another one takes over. */
  const ensureWorker = (): void => {
    if (finished || !serverUp || isRunning(workers.at(-1))) return;
    const worker = startWorkerProcess(hub!.configFile);
    workers.push(worker);
    worker.once('exit', () => setTimeout(ensureWorker, 500));
  };

  beforeAll(async () => {
    temporal = await startRestartableTemporal();
    serverUp = true;
    // A slow shop (a 500-point bucket refilled at 50 points/s): the run lasts long enough for the
    // restart to land in its middle.
    hub = await createHubFixture({
      temporalAddress: temporal.address,
      products: PRODUCTS,
      pageSize: 50,
      restoreRate: 50,
      taskQueue: `omnisync-cli-restart-${SERVER_DOWN_MS}`,
    });
  });

  afterAll(async () => {
    finished = true;
    for (const worker of workers) if (isRunning(worker)) worker.kill('SIGKILL');
    // A CLI still running ends by its own timeout; its result no longer matters.
    await cli?.catch(() => undefined);
    await temporal?.close();
    await hub?.close();
  }, 120_000);

  it('exits 0 after printing done: with the counts, with no crash on stderr, and Shopify matches the ERP', async () => {
    const listedItems = hub!.actualShopifyStock().size;
    const refusedItems = hub!.expectedShopifyStock().size - listedItems;
    ensureWorker();
    cli = omnisync(['--config', hub!.configFile, 'sync', 'run', SYNC, '--mode', 'full'], { SHOPIFY_ACCESS_TOKEN: TEST_SHOPIFY_TOKEN }, CLI_TIMEOUT_MS);

    // During the run's last pages, the server goes down for more than one progress tick and comes
    // back on the same port with its data.
    const writtenAtStop = await waitFor(
      'the last pages of the run',
      async () => {
        const written = itemsWritten(hub!);
        return written >= listedItems - ITEMS_LEFT_AT_STOP ? written : undefined;
      },
      60_000,
    );
    serverUp = false;
    await temporal!.stop();
    await new Promise((r) => setTimeout(r, SERVER_DOWN_MS));
    await temporal!.start();
    serverUp = true;
    const workerSurvived = isRunning(workers.at(-1));
    ensureWorker();

    const run = await cli;
    finished = true;
    console.info(
      `sync run restart: server stopped at ${writtenAtStop}/${listedItems} items written, down ${SERVER_DOWN_MS} ms; ` +
        `worker ${workerSurvived ? 'survived the restart' : 'restarted'} (${workers.length} worker process(es)); exit ${run.code}\n` +
        `stdout:\n${run.stdout}stderr:\n${run.stderr}`,
    );
    // The restart landed mid-run.
    expect(writtenAtStop).toBeLessThan(listedItems);

    expect(run.stderr).not.toContain('Channel has been shut down');
    // Past the client's own retries, the CLI says it waits for the server instead of giving up.
    if (SERVER_DOWN_MS > 20_000) expect(run.stderr).toContain('lost the connection to Temporal; the run goes on there. Waiting for the server to come back…');
    expect(run.stderr).not.toMatch(/Error|uncaught|unhandled/i);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).not.toContain('run failed');
    expect(run.code).toBe(0);

    // Progress was followed across the restart, then the result: every SKU read, every listed
    // item pushed once, the items the shop does not list refused.
    expect(run.stdout).toMatch(/^… /m);
    const done = /^done: (\d+) pages, (\d+) SKUs read, (\d+) changed, (\d+) pushed, (\d+) failed, (\d+) quarantined/m.exec(run.stdout);
    expect(done, 'a done: line with the counts').not.toBeNull();
    const [, , read, , pushed, failed] = done!.map(Number);
    expect({ read, pushed, failed }).toEqual({ read: PRODUCTS, pushed: listedItems, failed: refusedItems });
    expect(itemsWritten(hub!)).toBe(listedItems);
    // The last line comes after the result: the quarantine summary of the refused items.
    expect(run.stdout.indexOf('quarantined: ')).toBeGreaterThan(run.stdout.indexOf('done: '));

    expect(stockMismatches(hub!.expectedShopifyStock(), hub!.actualShopifyStock())).toEqual([]);
  }, 180_000);
});
