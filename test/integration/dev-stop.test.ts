/**
 * `npm start` (`omnisync dev`) stops cleanly however the stop signal arrives: the real command,
 * as `npm start` runs it, in a process group of its own as a terminal's foreground job is, on free
 * ports with a data directory of its own. A Ctrl-C reaches every process of the group, npm relays
 * it once more, and impatient users press it twice: the stop must still drain the worker, save
 * the sandbox, stop the Temporal dev server and sshd with SIGTERM and wait for them, and exit 0.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from '@photostructure/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { SANDBOX_SHOPIFY_TOKEN } from '../../sandbox';
import { findFreePort } from '../../sandbox/local-machine';

const REPO = resolve(__dirname, '../..');
const READY_BANNER = 'omnisync dev is running';
const STOPPED_LINE = 'omnisync dev stopped';
const READY_TIMEOUT_MS = 45_000;
const STOP_TIMEOUT_MS = 30_000;

interface DevRun {
  child: ChildProcess;
  dir: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** The parts of the demo config that name ports. */
interface DemoConfig {
  temporal: { address: string; devServer?: { port: number; uiPort: number } };
  sandbox: { shopifyPort: number; products: number };
  logging: { level: string };
  connectors: { shopify: { config: { shopUrl: string } }; 'partner-files': { config: { sftp: { port: number } } } };
}

/** The demo config (omnisync.yaml) moved to a folder of its own, with free ports. */
async function writeDevConfig(dir: string): Promise<{ file: string; shopifyUrl: string }> {
  const config = YAML.parse(readFileSync(join(REPO, 'omnisync.yaml'), 'utf8')) as DemoConfig;
  const [temporalPort, uiPort, shopifyPort, sftpPort] = [await findFreePort(), await findFreePort(), await findFreePort(), await findFreePort()];
  config.temporal.address = `127.0.0.1:${temporalPort}`;
  config.temporal.devServer = { port: temporalPort, uiPort };
  config.sandbox.shopifyPort = shopifyPort;
  // Small and quiet: the stop is under test, not the syncs.
  config.sandbox.products = 50;
  config.logging.level = 'warn';
  config.connectors.shopify.config.shopUrl = `http://127.0.0.1:${shopifyPort}`;
  config.connectors['partner-files'].config.sftp.port = sftpPort;
  cpSync(join(REPO, 'mappings'), join(dir, 'mappings'), { recursive: true });
  const file = join(dir, 'omnisync.yaml');
  writeFileSync(file, YAML.stringify(config));
  return { file, shopifyUrl: config.connectors.shopify.config.shopUrl };
}

/** `npm start` in its own process group (a terminal's foreground job), resolved once its banner is out. */
async function startDev(): Promise<DevRun> {
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-dev-stop-'));
  const { file: configFile, shopifyUrl } = await writeDevConfig(dir);
  const child = spawn('npm', ['start', '--silent'], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OMNISYNC_CONFIG: configFile, LOG_LEVEL: 'warn' },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  cleanups.push(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!output.includes(READY_BANNER)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`omnisync dev exited before it was ready:\n${output}`);
    if (Date.now() > deadline) throw new Error(`omnisync dev not ready within ${READY_TIMEOUT_MS / 1000} s:\n${output}`);
    await sleep(100);
  }
  // The first syncs write to the store: the stop then has a changed shop to save.
  while (!(await shopifyWasWritten(shopifyUrl))) {
    if (Date.now() > deadline) throw new Error(`omnisync dev: no write to the sandbox Shopify store within ${READY_TIMEOUT_MS / 1000} s:\n${output}`);
    await sleep(200);
  }
  return { child, dir, output: () => output, exited };
}

async function shopifyWasWritten(shopifyUrl: string): Promise<boolean> {
  const response = await fetch(`${shopifyUrl}/_sandbox/stats`, { headers: { 'X-Shopify-Access-Token': SANDBOX_SHOPIFY_TOKEN } });
  return ((await response.json()) as { mutationsApplied: number }).mutationsApplied > 0;
}

/** The processes of `pgid` and every descendant of `pid` (whatever group they moved to). */
function processesOf(pid: number, pgid: number): Array<{ pid: number; command: string }> {
  const rows = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,pgid=,stat=,args='], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((row) => !row[3]!.startsWith('Z'))
    .map(([p, pp, pg, , ...args]) => ({ pid: Number(p), ppid: Number(pp), pgid: Number(pg), command: args.join(' ') }));
  const found = new Set(rows.filter((row) => row.pgid === pgid).map((row) => row.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const row of rows) {
      if ((row.ppid === pid || found.has(row.ppid)) && !found.has(row.pid)) {
        found.add(row.pid);
        grew = true;
      }
    }
  }
  return rows.filter((row) => found.has(row.pid)).map(({ pid: p, command }) => ({ pid: p, command }));
}

/** Two busy processes: a slow machine, on which the stop takes longer than the signals' gap. */
function loadCpu(): void {
  for (let i = 0; i < 2; i++) {
    const busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    cleanups.push(() => busy.kill('SIGKILL'));
  }
}

async function expectCleanStop(run: DevRun, descendants: Array<{ pid: number; command: string }>): Promise<void> {
  expect(descendants.some(({ command }) => command.includes('start-dev')), 'the Temporal dev server was among them').toBe(true);
  expect(descendants.some(({ command }) => command.includes('sshd')), 'sshd was among them').toBe(true);
  const timeout = sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const);
  const exit = await Promise.race([run.exited, timeout]);
  expect(exit, run.output()).toEqual({ code: 0, signal: null });
  expect(run.output().split('\n').filter((line) => line.includes(STOPPED_LINE))).toHaveLength(1);
  // Every process it started is gone (the dev server and sshd have groups of their own).
  const alive = descendants.filter(({ pid }) => spawnSync('kill', ['-0', String(pid)]).status === 0 && !isZombie(pid));
  expect(alive, run.output()).toEqual([]);

  const dataDir = join(run.dir, 'data');
  const state = JSON.parse(readFileSync(join(dataDir, 'sandbox', 'shopify-state.json'), 'utf8')) as unknown;
  expect(state).toBeTypeOf('object');
  // A clean stop of the dev server leaves temporal.db alone: no rollback journal or WAL beside it.
  expect(readdirSync(dataDir).filter((name) => name.startsWith('temporal.db')).sort()).toEqual(['temporal.db']);
  for (const file of ['temporal.db', 'erp.sqlite']) {
    const db = new DatabaseSync(join(dataDir, file), { readOnly: true, timeout: 5000 });
    try {
      expect(db.prepare('pragma integrity_check').get(), file).toEqual({ integrity_check: 'ok' });
    } finally {
      db.close();
    }
  }
}

function isZombie(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  return !existsSync(stat) || readFileSync(stat, 'utf8').split(') ')[1]?.startsWith('Z') === true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

describe('omnisync dev (npm start) stops cleanly', () => {
  it('on Ctrl-C pressed twice on a busy machine: drains, saves, stops its servers, exits 0', async () => {
    const run = await startDev();
    const descendants = processesOf(run.child.pid!, run.child.pid!);
    loadCpu();
    process.kill(-run.child.pid!, 'SIGINT');
    await sleep(100);
    process.kill(-run.child.pid!, 'SIGINT');
    await expectCleanStop(run, descendants);
    expect(run.output()).toMatch(/omnisync dev already stopping; waiting for the (worker|sandbox|Temporal)/);
  });

  it('on one SIGTERM to the process', async () => {
    const run = await startDev();
    const descendants = processesOf(run.child.pid!, run.child.pid!);
    // npm relays it to omnisync, as a service manager's SIGTERM to npm would be.
    process.kill(run.child.pid!, 'SIGTERM');
    await expectCleanStop(run, descendants);
  });
});
