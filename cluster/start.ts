/**
 * A real Temporal cluster on this machine, as production runs one (docs/operations.md,
 * "Production on a Temporal cluster"): the server built from source (cluster/server-binary.ts),
 * its four services (frontend, history, matching, worker) each its own process, both stores on
 * a PostgreSQL server whose schema Temporal's own SQL tool installs. The dev server of
 * `npm start` is one process on SQLite; this is what omnisync workers meet in production, so it is
 * where killing a worker or restarting a service mid-run is exercised (cluster/cluster-test.ts)
 * and where the scale-out is measured (bench/scale.ts).
 *
 *   npm run cluster                      # frontend on 127.0.0.1:7233, Ctrl-C stops it
 *   npm run cluster -- --port 17233 --history-shards 8 --log-level info
 *
 * Throw-away: PostgreSQL gets a fresh data directory and a free port on every start, and it and
 * the services' config and logs (a temp folder, printed at start) are deleted on stop; nothing
 * survives Ctrl-C. What it sets up, in order:
 * 1. PostgreSQL on loopback (sandbox/postgres-server.ts, Debian's packages);
 * 2. databases `temporal` and `temporal_visibility` with `temporal-sql-tool create`,
 *    `setup-schema -v 0.0`, `update-schema -d <the server module's schema/postgresql/v12/...>`;
 * 3. the server config (cluster/config.ts) and the four service processes;
 * 4. once the frontend answers: the `default` namespace and omnisync's search attributes with the
 *    Temporal CLI (`temporal operator ...`), then waits until history and matching serve it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Connection } from '@temporalio/client';
import { ensureTemporalCli } from '../temporal/cli-binary';
import { dieWithParent, searchAttributeArgs } from '../temporal/dev-server';
import { startLocalPostgres, type LocalPostgres } from '../sandbox/postgres-server';
import { ensureTemporalServer, TEMPORAL_SERVER_VERSION, temporalSchemaDir, type TemporalServerBinaries } from './server-binary';
import {
  LOOPBACK,
  TEMPORAL_SERVICES,
  temporalDynamicConfigYaml,
  temporalServerConfigYaml,
  type TemporalClusterPorts,
  type TemporalServiceName,
} from './config';

export const CLUSTER_NAMESPACE = 'default';
const DATABASES = { default: 'temporal', visibility: 'temporal_visibility' } as const;
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 20_000;
/** A workflow id and task queue nobody uses: asking about them tells whether history and matching serve. */
const PROBE_ID = 'omnisync-cluster-readiness-probe';

export interface TemporalClusterOptions {
  /** The frontend's gRPC port; 0: a free one. Default 7233. */
  frontendPort?: number;
  /** Default 4 (enough for a handful of workers; a production cluster sizes it up front). */
  numHistoryShards?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Progress lines. Default: stderr. */
  logger?: (line: string) => void;
}

export interface TemporalCluster {
  /** `127.0.0.1:<port>` of the frontend: what workers and clients connect to. */
  readonly address: string;
  readonly ports: TemporalClusterPorts;
  readonly postgresPort: number;
  /** The folder with the config and one log file per service (deleted by `stop`). */
  readonly dir: string;
  /** The pid of a service's current process. */
  pid(service: TemporalServiceName): number;
  /** SIGTERM to one service, wait for its exit, start it again and wait until the cluster serves. */
  restartService(service: TemporalServiceName): Promise<void>;
  /** Stops every service, then PostgreSQL, and deletes the folder. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startTemporalCluster(options: TemporalClusterOptions = {}): Promise<TemporalCluster> {
  const log = options.logger ?? ((line: string) => process.stderr.write(`${line}\n`));
  const binaries = await ensureTemporalServer({ logger: log });
  const temporalCli = await ensureTemporalCli({ logger: log });
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-cluster-'));
  const services = new Map<TemporalServiceName, ChildProcess>();
  /** Processes stopped on purpose (a restart): their exit is not reported as a crash. */
  const stopping = new WeakSet<ChildProcess>();
  let postgres: LocalPostgres | undefined;
  let stopped = false;

  const killAllSync = (): void => {
    for (const child of services.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killAllSync);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // The frontend first, so no new requests arrive; history last, as it owns the shards.
    for (const name of ['frontend', 'worker', 'matching', 'history'] as const) {
      const child = services.get(name);
      if (child) await stopProcess(child);
    }
    await postgres?.stop();
    process.off('exit', killAllSync);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    postgres = await startLocalPostgres({ settings: ['max_connections = 300'] });
    log(`PostgreSQL on ${LOOPBACK}:${postgres.port}`);
    await setupSchemas(binaries, postgres.port, log);

    const port = options.frontendPort ?? 7233;
    const ports: TemporalClusterPorts = {
      frontend: { grpc: port === 0 ? await freeServicePort() : port, http: await freeServicePort(), membership: await freeServicePort() },
      history: { grpc: await freeServicePort(), membership: await freeServicePort() },
      matching: { grpc: await freeServicePort(), membership: await freeServicePort() },
      worker: { grpc: await freeServicePort(), membership: await freeServicePort() },
    };
    const configFile = join(dir, 'temporal-server.yaml');
    const dynamicConfigFile = join(dir, 'dynamic-config.yaml');
    writeFileSync(dynamicConfigFile, temporalDynamicConfigYaml());
    writeFileSync(
      configFile,
      temporalServerConfigYaml({
        postgresPort: postgres.port,
        ports,
        databases: DATABASES,
        numHistoryShards: options.numHistoryShards ?? 4,
        dynamicConfigFile,
        logLevel: options.logLevel ?? 'warn',
      }),
    );
    const address = `${LOOPBACK}:${ports.frontend.grpc}`;

    const startService = async (name: TemporalServiceName): Promise<void> => {
      // setpriv --pdeathsig: the kernel stops the service should this process be killed.
      const [file, args] = await dieWithParent(binaries.server, ['--config-file', configFile, '--allow-no-auth', 'start', '--service', name]);
      const logFd = openSync(join(dir, `${name}.log`), 'a');
      // detached: a process group of its own, so Ctrl-C reaches only this process, which stops the
      // services in order (frontend first, history last) instead of all at once.
      const child = spawn(file, args, { cwd: dir, stdio: ['ignore', logFd, logFd], detached: true });
      closeSync(logFd);
      services.set(name, child);
      child.once('exit', (code, signal) => {
        if (!stopped && services.get(name) === child && !stopping.has(child)) {
          log(`Temporal ${name} exited unexpectedly (${signal ?? `code ${code}`}); the end of its log (${join(dir, `${name}.log`)}):\n${logTail(join(dir, `${name}.log`))}`);
        }
      });
    };
    // History first, alone: on an empty database every service writes the cluster's metadata at
    // start, and the ones that lose that race exit ("failed to initialize current cluster
    // metadata"). Its gRPC port opens once the metadata is written; the rest then only read it.
    await startService('history');
    await waitUntil('history listens', () => portAccepts(ports.history.grpc), READY_TIMEOUT_MS, () => servicesProblem(services, dir));
    for (const name of TEMPORAL_SERVICES) if (name !== 'history') await startService(name);
    log(`Temporal ${TEMPORAL_SERVICES.join(', ')} started as four processes; frontend ${address}; config and logs in ${dir}`);

    await waitUntil('the frontend answers', () => frontendAnswers(address), READY_TIMEOUT_MS, () => servicesProblem(services, dir));
    await createNamespace(temporalCli, address, log);
    await waitUntil('history and matching serve the namespace', () => clusterServes(address), READY_TIMEOUT_MS, () => servicesProblem(services, dir));
    log(`Temporal cluster ready: ${address}, namespace ${CLUSTER_NAMESPACE}`);

    return {
      address,
      ports,
      postgresPort: postgres.port,
      dir,
      pid(service) {
        const pid = services.get(service)?.pid;
        if (pid === undefined) throw new Error(`Temporal ${service} is not running`);
        return pid;
      },
      async restartService(service) {
        const child = services.get(service);
        if (child) {
          stopping.add(child);
          await stopProcess(child);
        }
        await startService(service);
        await waitUntil(`${service} serves again`, () => clusterServes(address), READY_TIMEOUT_MS, () => servicesProblem(services, dir));
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** `create`, `setup-schema -v 0.0` (the version table), `update-schema` (every versioned step) per database. */
async function setupSchemas(binaries: TemporalServerBinaries, postgresPort: number, log: (line: string) => void): Promise<void> {
  const connection = ['--ep', LOOPBACK, '-p', String(postgresPort), '-u', 'postgres', '--pl', 'postgres12'];
  for (const [kind, database] of [['temporal', DATABASES.default], ['visibility', DATABASES.visibility]] as const) {
    const schemaDir = await temporalSchemaDir(kind);
    await run(binaries.sqlTool, [...connection, '--db', database, 'create-database']);
    await run(binaries.sqlTool, [...connection, '--db', database, 'setup-schema', '-v', '0.0']);
    await run(binaries.sqlTool, [...connection, '--db', database, 'update-schema', '-d', schemaDir]);
    log(`Schema of ${database} installed with temporal-sql-tool from ${kind}/versioned`);
  }
}

/** The `default` namespace (1 day retention) and omnisync's search attributes, with the Temporal CLI. */
async function createNamespace(temporalCli: string, address: string, log: (line: string) => void): Promise<void> {
  const target = ['--address', address, '--namespace', CLUSTER_NAMESPACE];
  await run(temporalCli, ['operator', 'namespace', 'create', ...target, '--retention', '24h']);
  // searchAttributeArgs gives `--search-attribute Name=Type` pairs; the operator command takes one type per call.
  const pairs = searchAttributeArgs().filter((arg) => arg !== '--search-attribute');
  for (const pair of pairs) {
    const [name, type] = pair.split('=') as [string, string];
    await run(temporalCli, ['operator', 'search-attribute', 'create', ...target, '--name', name, '--type', type]);
  }
  log(`Namespace ${CLUSTER_NAMESPACE} and ${pairs.length} search attributes created with the Temporal CLI`);
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function frontendAnswers(address: string): Promise<boolean> {
  return withConnection(address, async (connection) => {
    await connection.workflowService.getSystemInfo({});
    return true;
  });
}

/**
 * True when a workflow lookup comes back NOT_FOUND from history and a task queue description from
 * matching: both services are in the ring and serve the namespace.
 */
async function clusterServes(address: string): Promise<boolean> {
  return withConnection(address, async (connection) => {
    try {
      await connection.workflowService.describeWorkflowExecution({ namespace: CLUSTER_NAMESPACE, execution: { workflowId: PROBE_ID } });
    } catch (err) {
      if ((err as { code?: number }).code !== 5 /* NOT_FOUND */) return false;
    }
    await connection.workflowService.describeTaskQueue({ namespace: CLUSTER_NAMESPACE, taskQueue: { name: PROBE_ID }, taskQueueType: 1 });
    return true;
  });
}

async function withConnection(address: string, probe: (connection: Connection) => Promise<boolean>): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2_000 });
    const conn = connection;
    return await conn.withDeadline(Date.now() + 5_000, () => probe(conn));
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, problem: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    const failed = problem();
    if (failed !== undefined) throw new Error(`Temporal cluster: waiting until ${what}, but ${failed}`);
    if (Date.now() > deadline) throw new Error(`Temporal cluster: timed out after ${timeoutMs / 1000} s waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A service that exited while the cluster was coming up, with its log's last lines. */
function servicesProblem(services: Map<TemporalServiceName, ChildProcess>, dir: string): string | undefined {
  for (const [name, child] of services) {
    if (child.exitCode !== null || child.signalCode !== null) {
      return `${name} exited (${child.signalCode ?? `code ${child.exitCode}`}); last lines of its log:\n${logTail(join(dir, `${name}.log`))}`;
    }
  }
  return undefined;
}

/** The last lines of a service's log (JSON lines), each as `level: msg (error)`, without stack traces. */
function logTail(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '(no log)';
  }
  return text
    .trimEnd()
    .split('\n')
    .slice(-5)
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { level?: string; msg?: string; error?: string };
        return `  ${entry.level ?? '?'}: ${entry.msg ?? ''}${entry.error ? ` (${entry.error})` : ''}`;
      } catch {
        return `  ${line}`;
      }
    })
    .join('\n');
}

/**
 * A free port on loopback below 32768: the cluster_membership table keeps a service's
 * membership port in a `smallint`, so a port from Linux's ephemeral range (32768 and up, where
 * the kernel's free ports come from) makes the service die at start with "out of range for type
 * smallint". Tried at random in 20000-32767, bound briefly to check it is free.
 */
async function freeServicePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port found on 127.0.0.1 between 20000 and 32767');
}

/** SIGTERM (the server drains and leaves the ring), SIGKILL after a grace period. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${[file, ...args].join(' ')}\` failed: ${String(stderr).trim() || String(stdout).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

/** `npm run cluster [-- --port 7233 --history-shards 4 --log-level warn]`: runs until Ctrl-C. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '7233' },
      'history-shards': { type: 'string', default: '4' },
      'log-level': { type: 'string', default: 'warn' },
    },
  });
  const logLevel = values['log-level'] as NonNullable<TemporalClusterOptions['logLevel']>;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`--log-level must be debug, info, warn or error, not ${logLevel}`);
  const cluster = await startTemporalCluster({ frontendPort: Number(values.port), numHistoryShards: Number(values['history-shards']), logLevel });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say('');
  say(`Temporal cluster (server ${TEMPORAL_SERVER_VERSION}) on loopback, throw-away (deleted on Ctrl-C):`);
  say(`  frontend   ${cluster.address} (HTTP ${cluster.ports.frontend.http})   pid ${cluster.pid('frontend')}`);
  for (const name of ['history', 'matching', 'worker'] as const) say(`  ${name.padEnd(10)} ${LOOPBACK}:${cluster.ports[name].grpc}   pid ${cluster.pid(name)}`);
  say(`  PostgreSQL ${LOOPBACK}:${cluster.postgresPort} (databases ${DATABASES.default}, ${DATABASES.visibility})`);
  say(`  config and service logs: ${cluster.dir}`);
  say(`Workers: set temporal.address: ${cluster.address} in omnisync.yaml and run \`omnisync worker\` (as many as you like). Ctrl-C stops the cluster.`);
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    say('stopping the Temporal cluster…');
    cluster.stop().then(
      () => {
        say('Temporal cluster stopped');
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`stopping the cluster failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

if (typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`npm run cluster failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
