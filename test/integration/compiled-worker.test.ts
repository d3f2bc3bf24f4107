/**
 * The compiled build as production runs it (deploy/Dockerfile's runtime stage, without Docker):
 * `npm run build` into a folder of its own, an app folder holding only package.json,
 * package-lock.json, node_modules and that dist/ (owned by root, read-only to the worker), then
 * `node dist/cli/main.js worker` (no tsx, no webpack at start: the prebuilt workflow bundle) and
 * `node dist/cli/main.js sync run` as a non-root user (`nobody`, when the tests run as root)
 * against a Temporal dev server, for one full stock sync from the sandbox ERP to the Shopify
 * simulator. SIGTERM then drains the worker, which exits 0.
 *
 * node_modules: by default a link to the repo's (so the test stays near a minute). With
 * `OMNISYNC_TEST_RUNTIME_STAGE=1` it is the runtime stage's own `npm ci --omit=dev`, and the test
 * also checks that no dev dependency (typescript, vitest, @temporalio/testing) is installed.
 *
 * Done when the sync run exits 0 with its `done:` line, Shopify holds the ERP's stock, the worker
 * logged the prebuilt bundle and no error, and it stopped on SIGTERM with exit code 0.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubFixture, stockMismatches, TEST_SHOPIFY_TOKEN, type HubFixture } from '../support/hub-fixture';
import { createTestEnvironment } from '../support/temporal';
import { waitFor } from '../support/worker-process';

const REPO = resolve(__dirname, '../..');
const PRODUCTS = 300;
const SYNC = 'erp-stock-to-shopify';
/** The runtime stage's own `npm ci --omit=dev` instead of a link to the repo's node_modules. */
const RUNTIME_STAGE = process.env.OMNISYNC_TEST_RUNTIME_STAGE === '1';
/** The non-root user the worker runs as (deploy/Dockerfile and the systemd unit use `omnisync`). */
const NOBODY = 65534;
const asNonRoot = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Gives a folder and everything in it to `uid` (the worker's state store is written there). */
function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), uid);
}

describe('the compiled worker (npm run build, node dist/cli/main.js) as a non-root user', () => {
  let app: string | undefined;
  let env: TestWorkflowEnvironment | undefined;
  let hub: HubFixture | undefined;
  let worker: ChildProcess | undefined;
  let workerLog = '';
  const timings: string[] = [];

  /** The compiled CLI, as the Dockerfile's entrypoint runs it: plain node, in the app folder. */
  const compiled = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    spawn(process.execPath, ['dist/cli/main.js', '--config', hub!.configFile, ...args], {
      cwd: app!,
      env: { PATH: process.env.PATH, SHOPIFY_ACCESS_TOKEN: TEST_SHOPIFY_TOKEN, LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...asNonRoot,
    });

  beforeAll(async () => {
    app = mkdtempSync(join(tmpdir(), 'omnisync-app-'));
    chmodSync(app, 0o755);
    let started = Date.now();
    const build = await run('npm', ['run', 'build', '--', join(app, 'dist')], REPO, 240_000);
    expect(build.code, `npm run build failed:\n${build.stdout}${build.stderr}`).toBe(0);
    timings.push(`build ${((Date.now() - started) / 1000).toFixed(1)} s`);
    copyFileSync(join(REPO, 'package.json'), join(app, 'package.json'));
    copyFileSync(join(REPO, 'package-lock.json'), join(app, 'package-lock.json'));
    started = Date.now();
    if (RUNTIME_STAGE) {
      const ci = await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], app, 900_000);
      expect(ci.code, `npm ci --omit=dev failed:\n${ci.stdout}${ci.stderr}`).toBe(0);
      timings.push(`npm ci --omit=dev ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } else {
      symlinkSync(realpathSync(join(REPO, 'node_modules')), join(app, 'node_modules'));
    }
    env = await createTestEnvironment();
    hub = await createHubFixture({ temporalAddress: env.address, products: PRODUCTS, pageSize: 100, taskQueue: 'omnisync-compiled' });
    // The worker owns its data (the SQLite state store beside the config here), not the code.
    if (asNonRoot.uid !== undefined) chownTree(hub.dir, asNonRoot.uid);
  }, 1_200_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await hub?.close();
    await env?.teardown();
    if (app) rmSync(app, { recursive: true, force: true });
  }, 60_000);

  it('dist/ holds the prebuilt workflow bundle and no code that needs tsx or .ts files', () => {
    expect(existsSync(join(app!, 'dist', 'workflow-bundle.js'))).toBe(true);
    // Tests and benchmarks stay out (a runtime file importing them would pull them in).
    expect(existsSync(join(app!, 'dist', 'test'))).toBe(false);
    expect(existsSync(join(app!, 'dist', 'bench'))).toBe(false);
    const offenders: string[] = [];
    const scan = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) scan(path);
        else if (entry.name.endsWith('.js') && entry.name !== 'workflow-bundle.js') {
          if (/require\("tsx|from "tsx|require\("[^"]+\.ts"\)/.test(readFileSync(path, 'utf8'))) offenders.push(path);
        }
      }
    };
    scan(join(app!, 'dist'));
    expect(offenders).toEqual([]);
    if (RUNTIME_STAGE) {
      for (const devDependency of ['typescript', 'vitest', '@temporalio/testing', 'eslint']) {
        expect(existsSync(join(app!, 'node_modules', devDependency)), `${devDependency} installed by npm ci --omit=dev`).toBe(false);
      }
    }
  });

  it('runs one full stock sync to completion and stops cleanly on SIGTERM', async () => {
    const started = Date.now();
    worker = compiled(['worker']);
    worker.stdout!.on('data', (chunk: Buffer) => (workerLog += chunk.toString()));
    worker.stderr!.on('data', (chunk: Buffer) => (workerLog += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => worker!.once('exit', (code, signal) => done({ code, signal })));
    const startup = await waitFor(
      'the compiled worker to run',
      async () => (workerLog.includes('"worker running"') ? 'running' : worker!.exitCode !== null || worker!.signalCode !== null ? 'exited' : undefined),
      60_000,
    ).catch(() => 'timed out');
    expect(startup, `the compiled worker's log:\n${workerLog}`).toBe('running');
    timings.push(`worker start ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const syncRun = compiled(['sync', 'run', SYNC, '--mode', 'full'], { LOG_LEVEL: 'error' });
    let stdout = '';
    let stderr = '';
    syncRun.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    syncRun.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => syncRun.once('exit', done));
    timings.push(`sync run ${((Date.now() - started) / 1000).toFixed(1)} s`);

    worker.kill('SIGTERM');
    const stopped = await exited;
    console.info(`compiled worker (${RUNTIME_STAGE ? 'npm ci --omit=dev' : 'linked node_modules'}, uid ${asNonRoot.uid ?? process.getuid?.()}): ${timings.join(', ')}\n${stdout}`);

    expect(stderr).toBe('');
    expect(code).toBe(0);
    const done = /^done: (\d+) pages, (\d+) SKUs read, (\d+) changed, (\d+) pushed, (\d+) failed/m.exec(stdout);
    expect(done, `a done: line in\n${stdout}`).not.toBeNull();
    const listed = hub!.actualShopifyStock().size;
    expect(Number(done![2])).toBe(PRODUCTS);
    expect(Number(done![4])).toBe(listed);
    expect(stockMismatches(hub!.expectedShopifyStock(), hub!.actualShopifyStock())).toEqual([]);

    // The prebuilt bundle, not webpack at start; no error logged; drained and stopped on SIGTERM.
    expect(workerLog).toContain(`"workflowBundle":"${join(app!, 'dist', 'workflow-bundle.js')}"`);
    expect(workerLog).not.toMatch(/"level":"(error|fatal)"/);
    expect(workerLog).toContain('"worker stopped"');
    expect(stopped).toEqual({ code: 0, signal: null });
  }, 120_000);
});
