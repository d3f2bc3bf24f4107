/**
 * Helpers the benchmarks share (bench:stock, bench:prices): the simulator and other processes
 * they start, and what they read from /proc (Linux) and from Temporal's histories.
 */
import { spawn } from 'node:child_process';
import { INVENTORY_ITEM_CROSSWALK } from '../connectors/shopify/stock-target';
import { openStateStore } from '../state/kysely-store';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';

export const REPO = resolve(__dirname, '..');

/**
 * Starts the simulator in its own process (as a real shop is elsewhere), its bucket one second
 * of restore, and returns its URL and pid; `cleanups` gets its stop.
 */
export async function startSimulatorProcess(
  options: { products: number; restoreRate: number; token: string; cpuProfileDir?: string | undefined },
  cleanups: Array<() => Promise<void> | void>,
): Promise<{ url: string; pid: number }> {
  const { products, restoreRate, token, cpuProfileDir } = options;
  const child = spawn(
    process.execPath,
    [...profileFlags(cpuProfileDir, 'simulator'), '--import', 'tsx', 'sandbox/shopify/main.ts', '--port', '0', '--token', token, '--restore-rate', String(restoreRate), '--bucket-size', String(restoreRate), '--product-count', String(products)],
    // NODE_ENV=production: graphql-js skips its development-only checks, as a real server would.
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  cleanups.push(
    () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  );
  return new Promise((resolveUrl, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolveUrl({ url: match[1]!, pid: child.pid! });
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with code ${code}: ${output}`)));
  });
}

/** Node flags that make a child process write its CPU profile into `dir`/`name` on exit. */
export function profileFlags(dir: string | undefined, name: string): string[] {
  return dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`];
}

/** CPU seconds a process has used so far (user + system, all threads), from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process's current and peak resident memory in bytes, from /proc (Linux). */
export function residentMemory(pid: number): { current: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { current: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Waits until a worker polls the task queue (for workflow or activity tasks). */
export async function waitForPollers(client: Client, taskQueue: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    for (const taskQueueType of [1, 2]) {
      const response = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType });
      if ((response.pollers ?? []).length > 0) return;
    }
    if (Date.now() > deadline) throw new Error(`no worker polled ${taskQueue} within 2 minutes`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs a node process to its end; resolves with its standard output when `captureStdout`. */
export function runToCompletion(args: string[], options: { captureStdout?: boolean } = {}): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', options.captureStdout ? 'pipe' : 'ignore', 'inherit'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? done(output) : fail(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}

/** Per activity type: count, mean schedule-to-start wait and mean run time (from history timestamps). */
export async function activityTimeline(client: Client, workflowId: string): Promise<string[]> {
  const stats = new Map<string, { count: number; waitMs: number; runMs: number }>();
  for await (const execution of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    const history = await client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
    const scheduled = new Map<string, { type: string; at: number }>();
    const started = new Map<string, number>();
    const at = (event: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
      Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
    for (const event of history.events ?? []) {
      const id = String(event.eventId);
      if (event.activityTaskScheduledEventAttributes) scheduled.set(id, { type: event.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at: at(event) });
      if (event.activityTaskStartedEventAttributes) started.set(String(event.activityTaskStartedEventAttributes.scheduledEventId), at(event));
      if (event.activityTaskCompletedEventAttributes) {
        const scheduledId = String(event.activityTaskCompletedEventAttributes.scheduledEventId);
        const s = scheduled.get(scheduledId);
        const st = started.get(scheduledId);
        if (!s || st === undefined) continue;
        const entry = stats.get(s.type) ?? { count: 0, waitMs: 0, runMs: 0 };
        entry.count++;
        entry.waitMs += st - s.at;
        entry.runMs += at(event) - st;
        stats.set(s.type, entry);
      }
    }
  }
  return [...stats].map(([type, s]) => `  ${type.padEnd(20)} ${String(s.count).padStart(4)} × waited ${(s.waitMs / s.count).toFixed(0)} ms, ran ${(s.runMs / s.count).toFixed(0)} ms on average`);
}

/** History events and activity executions over every run of the workflow id (continue-as-new chain). */
export async function countHistory(client: Client, workflowId: string): Promise<{ events: number; activities: number }> {
  let events = 0;
  let activities = 0;
  for await (const execution of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    const history = await client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
    for (const event of history.events ?? []) {
      events++;
      if (event.activityTaskScheduledEventAttributes) activities++;
    }
  }
  return { events, activities };
}

/**
 * The command-line options both push benchmarks take (bench:stock, bench:prices), besides their
 * own catalogue size and page size. `restoreRate`: the benchmark's default rate.
 */
export function commonBenchOptions(restoreRate: number) {
  return {
    /**
     * Points per second the simulated shop restores (bucket: one second's worth). A rate far
     * above the ceiling (e.g. 100000) shows what the machine does when the throttle never binds.
     */
    'restore-rate': { type: 'string', default: String(restoreRate) },
    /**
     * V8 old-space limit of the worker process in MB (0: Node's default). V8 grows its heap
     * lazily while memory is plentiful; a cap makes it collect sooner (docs/operations.md).
     */
    'worker-heap-mb': { type: 'string', default: '128' },
    /** Prints, per activity type, how long activities waited to start and how long they ran. */
    timeline: { type: 'boolean', default: false },
    /** file: the dev server persists to SQLite (as `npm start`); memory: no fsync per event. */
    'temporal-db': { type: 'string', default: 'memory' },
    /** Writes V8 CPU profiles of the worker and the simulator (on exit) into this folder. */
    'cpu-profile': { type: 'string' },
    /** Skips the direct-push baseline (see the file comment). */
    'no-direct': { type: 'boolean', default: false },
  } as const;
}

/**
 * Starts `omnisync worker` as its own process with a prebuilt workflow bundle, as both push
 * benchmarks measure it: the worker heap capped (`heapMb`, 0: Node's default) as
 * docs/operations.md recommends, its CPU profile written on exit when asked. The process is
 * stopped with SIGTERM by the cleanups.
 */
export function startBenchWorker(
  options: { configFile: string; bundleFile: string; token: string; heapMb: number; cpuProfileDir: string | undefined; profileName: string; serve?: readonly string[] },
  cleanups: Array<() => Promise<void> | void>,
): { pid: number } {
  const nodeFlags = [...profileFlags(options.cpuProfileDir, options.profileName), ...(options.heapMb > 0 ? [`--max-old-space-size=${options.heapMb}`, '--max-semi-space-size=4'] : [])];
  const serveArgs = options.serve ? ['--serve', options.serve.join(',')] : [];
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'cli/main.ts', '--config', options.configFile, 'worker', '--workflow-bundle', options.bundleFile, ...serveArgs], {
    cwd: REPO,
    env: { ...process.env, SHOPIFY_ACCESS_TOKEN: options.token, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  cleanups.push(
    () =>
      new Promise<void>((done) => {
        // A worker a benchmark or test killed has a signalCode and no exitCode: already gone.
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  );
  return { pid: child.pid! };
}

/**
 * What a shop's first sync leaves behind: SKU → inventory item for every product the simulator
 * lists, in the hub's state store (resolving 100,000 SKUs through productVariants would cost
 * ~200,000 points, minutes, once). `connectorId`: the shop's connector in the config.
 */
export async function preloadShopifyCrosswalk(stateStore: Parameters<typeof openStateStore>[0], simulatorUrl: string, token: string, connectorId = 'shopify'): Promise<void> {
  const response = await fetch(`${simulatorUrl}/_sandbox/inventory`, { headers: { 'X-Shopify-Access-Token': token } });
  const { items } = (await response.json()) as { items: Array<{ sku: string; inventoryItemId: string }> };
  const store = openStateStore(stateStore);
  await store.migrate();
  await store.crosswalk(connectorId).put(INVENTORY_ITEM_CROSSWALK, new Map(items.map((i) => [i.sku, i.inventoryItemId])));
  await store.close();
}
