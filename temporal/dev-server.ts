/**
 * The embedded Temporal server for `npm start`: the Temporal CLI's `server start-dev` (server +
 * Web UI in one process), persisted to a SQLite file under the data dir so workflows survive a
 * restart, with omnisync's search attributes registered so operators can filter in the UI.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { OMNISYNC_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { ensureTemporalCli } from './cli-binary';
import { forEachLine } from './output-lines';

/** The subset of a pino logger used here; a pino logger fits as is. */
export interface DevServerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export interface TemporalDevServerOptions {
  /**
   * Directory of the persistent state; the server keeps `<dataDir>/temporal.db` there.
   * Null keeps everything in memory (benchmarks: no fsync per history event; lost at stop).
   */
  dataDir: string | null;
  /** Frontend gRPC port. Default 7233; 0 picks a free port. */
  port?: number;
  /** Web UI port. Default 8233; 0 picks a free port. */
  uiPort?: number;
  /** Namespace the workers use; created at start. Default `default` (always created). */
  namespace?: string;
  logger?: DevServerLogger;
  /** Path of the Temporal CLI. Default: {@link ensureTemporalCli} (builds it when needed). */
  cliPath?: string;
  /** How long to wait for the frontend and the UI to answer. Default 60 s. */
  readyTimeoutMs?: number;
  /**
   * The remote codec endpoint the Web UI decodes payloads through (`--ui-codec-endpoint`,
   * temporal/codec-server.ts). It may hold a token: it is never logged.
   */
  uiCodecEndpoint?: string;
}

export interface TemporalDevServer {
  /** `127.0.0.1:<port>`, for `Connection.connect` / `NativeConnection.connect`. */
  address: string;
  /** The Web UI, e.g. `http://127.0.0.1:8233`. */
  uiUrl: string;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const DEFAULT_PORT = 7233;
const DEFAULT_UI_PORT = 8233;
const DEFAULT_READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

/** The CLI's `--search-attribute` type names, by SDK type. */
const CLI_SEARCH_ATTRIBUTE_TYPES: Record<SearchAttributeType, string> = {
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.DATETIME]: 'Datetime',
};

/** `--search-attribute Name=Type` pairs for `temporal server start-dev`. */
export function searchAttributeArgs(
  keys: readonly { name: string; type: SearchAttributeType }[] = OMNISYNC_SEARCH_ATTRIBUTES,
): string[] {
  return keys.flatMap((key) => ['--search-attribute', `${key.name}=${CLI_SEARCH_ATTRIBUTE_TYPES[key.type]}`]);
}

/**
 * Starts `temporal server start-dev` and resolves once its frontend serves the namespace and its
 * UI answers.
 *
 * The child runs in a process group of its own (`detached`), so a Ctrl-C in the terminal does not
 * reach it: it keeps serving until the caller has drained its workers and calls `stop()` (SIGTERM,
 * and waits; the server then closes its SQLite database cleanly). It is SIGKILLed when the parent
 * process exits without calling `stop()`, and on Linux it gets SIGTERM when the parent dies
 * however it dies, `kill -9` included (see {@link dieWithParent}); elsewhere a `kill -9` of the
 * parent leaves it running.
 *
 * @throws Error `Port <n> is in use: ...` when the gRPC or UI port is taken (never silently
 *   attaches to another server: its data dir and search attributes would be unknown).
 * @throws Error with the server's last output when it exits or doesn't get ready in time.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const namespace = options.namespace ?? 'default';
  const logger = options.logger ?? silentLogger;
  const port = await resolvePort(options.port ?? DEFAULT_PORT, 'TEMPORAL_PORT');
  const uiPort = await resolvePort(options.uiPort ?? DEFAULT_UI_PORT, 'TEMPORAL_UI_PORT');
  const cliPath =
    options.cliPath ?? (await ensureTemporalCli({ build: true, logger: (line) => logger.info({ line }, 'temporal cli') }));
  if (options.dataDir !== null) await mkdir(options.dataDir, { recursive: true });

  const args = [
    'server', 'start-dev',
    ...(options.dataDir === null ? [] : ['--db-filename', path.join(options.dataDir, 'temporal.db')]),
    '--ip', HOST,
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--log-level', 'warn',
    '--namespace', namespace,
    ...searchAttributeArgs(),
    ...(options.uiCodecEndpoint === undefined ? [] : ['--ui-codec-endpoint', options.uiCodecEndpoint]),
  ];
  const [command, commandArgs] = await dieWithParent(cliPath, args);
  // Not unref()'d: the parent's event loop waits for it, as stop() does.
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const address = `${HOST}:${port}`;
  const uiUrl = `http://${HOST}:${uiPort}`;

  let stopping = false;
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  forEachLine(child.stdout!, (line) => {
    if (line.trim() === '') return;
    remember(line);
    logger.info({ line }, 'temporal server');
  });
  forEachLine(child.stderr!, (line) => {
    if (line.trim() === '') return;
    remember(line);
    // Shutdown makes the server's internal workers log a burst of "Failed to poll" warnings.
    if (stopping) logger.debug?.({ line }, 'temporal server');
    else logger.warn({ line }, 'temporal server');
  });

  let ready = false;
  let spawnError: Error | undefined;
  let markExited: (how: { code: number | null; signal: NodeJS.Signals | null }) => void = () => undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    markExited = resolve;
  });
  child.once('exit', (code, signal) => {
    if (ready && !stopping) {
      logger.error({ code, signal, lastOutput: tail.slice(-10) }, 'Temporal dev server exited unexpectedly');
    }
    markExited({ code, signal });
  });
  child.once('error', (err) => {
    spawnError = err;
    // A process that never started emits no 'exit'.
    if (child.pid === undefined) markExited({ code: null, signal: null });
  });
  const killOnParentExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnParentExit);

  let stopPromise: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopPromise ??= (async () => {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const graceful = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
        if (!graceful) {
          logger.warn({ pid: child.pid }, `Temporal dev server did not stop within ${STOP_GRACE_MS / 1000} s; killing it`);
          child.kill('SIGKILL');
          await exited;
        }
      }
      process.removeListener('exit', killOnParentExit);
    })();
    return stopPromise;
  };

  const abort = new AbortController();
  const died = exited.then(({ code, signal }) => {
    abort.abort();
    return spawnError && child.pid === undefined
      ? `could not be started (${spawnError.message})`
      : `exited (code ${code}, signal ${signal}) before it was ready`;
  });

  const readiness = waitUntilReady(address, uiUrl, namespace, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, abort.signal)
    .then(() => undefined)
    .catch((err: unknown) => `did not get ready: ${(err as Error).message}`);
  const failure = await Promise.race([readiness, died]);
  if (failure !== undefined) {
    abort.abort();
    await stop();
    const shownArgs = commandArgs.map((arg) => (arg === options.uiCodecEndpoint ? '<codec endpoint>' : arg));
    throw new Error(
      `Temporal dev server ${failure} (${command} ${shownArgs.join(' ')}). Last output:\n${tail.join('\n')}`,
    );
  }
  ready = true;
  logger.info({ address, uiUrl, namespace, dataDir: options.dataDir }, 'Temporal dev server ready');
  return { address, uiUrl, stop };
}

/** Polls the frontend (namespace described) and then the UI until both answer. */
async function waitUntilReady(
  address: string,
  uiUrl: string,
  namespace: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (signal.aborted) return;
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
      } finally {
        await connection.close();
      }
      break;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `its frontend did not answer on ${address} within ${timeoutMs / 1000} s ` +
          `(last error: ${(lastError as Error | undefined)?.message ?? 'none'}).`,
      );
    }
    await sleep(250);
  }
  for (;;) {
    if (signal.aborted) return;
    try {
      const response = await fetch(uiUrl, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
      lastError = new Error(`HTTP ${response.status}`);
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `its Web UI did not answer on ${uiUrl} within ${timeoutMs / 1000} s ` +
          `(last error: ${(lastError as Error | undefined)?.message ?? 'none'}).`,
      );
    }
    await sleep(250);
  }
}

/**
 * On Linux, runs the server through util-linux's `setpriv --pdeathsig TERM` (it execs the CLI,
 * same pid) so the kernel stops the server even when this process is killed with SIGKILL and
 * can't clean up. Elsewhere, or without `setpriv`, the command is unchanged. The sandbox's sshd
 * runs through it too.
 */
export async function dieWithParent(file: string, args: string[]): Promise<[string, string[]]> {
  if (process.platform !== 'linux') return [file, args];
  for (const setpriv of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      await access(setpriv, fsConstants.X_OK);
      return [setpriv, ['--pdeathsig', 'TERM', '--', file, ...args]];
    } catch {
      // Try the next location.
    }
  }
  return [file, args];
}

/** Checks that `port` is free on 127.0.0.1 (0: picks a free one) and returns it. */
async function resolvePort(port: number, envHint: string): Promise<number> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, HOST, () => resolve());
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `Port ${port} is in use: another Temporal server or process holds it. Stop it or set ${envHint}.`,
      );
    }
    throw err;
  }
  const bound = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}

const silentLogger: DevServerLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
