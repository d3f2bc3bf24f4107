/**
 * A Temporal dev server a test can restart: the embedded server of `npm start`
 * (temporal/dev-server.ts), persisted to a SQLite file in a temp dir and bound to a fixed port,
 * so a restart comes back at the same address with every workflow, timer and task it had.
 * Clients and workers simply reconnect.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startTemporalDevServer, type TemporalDevServer } from '../../temporal/dev-server';
import { testServerExecutable } from './temporal';

export interface RestartableTemporal {
  /** `127.0.0.1:<port>`, the same across restarts. */
  readonly address: string;
  /** SIGTERM: the server persists its state and exits. Resolves once it has exited. */
  stop(): Promise<void>;
  /** A new server on the same port and data, after `stop()`. */
  start(): Promise<void>;
  /** `stop()`, then `start()`. */
  restart(): Promise<void>;
  /** A new connection and client; close it with `client.connection.close()`. */
  connect(): Promise<Client>;
  /** Stops the server (if running) and deletes its data. Idempotent. */
  close(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startRestartableTemporal(): Promise<RestartableTemporal> {
  const executable = await testServerExecutable();
  const cliPath = executable.type === 'existing-path' ? executable.path : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'omnisync-temporal-'));
  const port = await freePort();
  // The Web UI cannot be turned off; it gets a free port of its own each time.
  const launch = () => startTemporalDevServer({ dataDir, port, uiPort: 0, cliPath });

  let server: TemporalDevServer | undefined;
  try {
    server = await launch();
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const address = server.address;
  let closed = false;

  const stop = async (): Promise<void> => {
    await server?.stop();
    server = undefined;
  };
  const restart = async (): Promise<void> => {
    if (closed) throw new Error('the Temporal server was closed');
    await stop();
    server = await launch();
  };

  return {
    address,
    stop,
    async start() {
      if (closed) throw new Error('the Temporal server was closed');
      if (server !== undefined) throw new Error('the Temporal server is running');
      server = await launch();
    },
    restart,
    async connect() {
      const connection = await Connection.connect({ address });
      return new Client({ connection });
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
