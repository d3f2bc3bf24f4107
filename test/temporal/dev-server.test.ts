import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAttributeArgs, startTemporalDevServer, type TemporalDevServer } from '../../temporal/dev-server';
import { connectClient } from '../../temporal/connection';
import { installQuietRuntime } from '../support/temporal';
import { SA_CONNECTOR, SA_SYNC_NAME } from '../../workflows/search-attributes';
import type { tagged } from './fixtures/workflows';

/** Visibility is eventually consistent: poll the query until it returns something. */
async function listUntilFound(client: Client, query: string): Promise<WorkflowExecutionInfo[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found: WorkflowExecutionInfo[] = [];
    for await (const execution of client.workflow.list({ query })) found.push(execution);
    if (found.length > 0 || Date.now() > deadline) return found;
    await sleep(250);
  }
}

async function portIsFree(port: number): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('startTemporalDevServer', () => {
  let dataDir: string;
  let bundle: WorkflowBundleWithSourceMap;
  const servers: TemporalDevServer[] = [];

  beforeAll(async () => {
    installQuietRuntime();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'omnisync-temporal-'));
    bundle = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'fixtures', 'workflows.ts'),
      logger: new DefaultLogger('WARN'),
    });
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<TemporalDevServer> {
    const server = await startTemporalDevServer({ dataDir, port: 0, uiPort: 0 });
    servers.push(server);
    return server;
  }

  it('maps search attribute types to the CLI names', () => {
    expect(searchAttributeArgs()).toEqual([
      '--search-attribute', 'OmnisyncConnector=KeywordList',
      '--search-attribute', 'OmnisyncEntity=Keyword',
      '--search-attribute', 'OmnisyncSyncName=Keyword',
      '--search-attribute', 'OmnisyncSyncMode=Keyword',
      '--search-attribute', 'OmnisyncWaitingFor=Keyword',
    ]);
  });

  it('serves workflows and the UI, finds them by search attribute, and keeps them across a restart', async () => {
    const workflowId = `tagged-${randomUUID()}`;
    const syncName = `x-${randomUUID()}`;
    const query = `OmnisyncSyncName = "${syncName}"`;

    const first = await start();
    expect((await fetch(first.uiUrl)).ok).toBe(true);
    await expect(stat(path.join(dataDir, 'temporal.db'))).resolves.toBeTruthy();
    {
      const { connection, client } = await connectClient({ address: first.address, namespace: 'default' });
      const workerConnection = await NativeConnection.connect({ address: first.address });
      try {
        const worker = await Worker.create({
          connection: workerConnection,
          taskQueue: 'dev-server-test',
          workflowBundle: bundle,
        });
        const result = await worker.runUntil(
          client.workflow.execute<typeof tagged>('tagged', {
            taskQueue: 'dev-server-test',
            workflowId,
            args: ['stock'],
            typedSearchAttributes: [
              { key: SA_SYNC_NAME, value: syncName },
              { key: SA_CONNECTOR, value: ['erp', 'shop'] },
            ],
          }),
        );
        expect(result).toBe(syncName);
        const listed = await listUntilFound(client, `${query} AND OmnisyncEntity = "stock"`);
        expect(listed.map((execution) => execution.workflowId)).toEqual([workflowId]);
      } finally {
        await workerConnection.close();
        await connection.close();
      }
    }
    await first.stop();
    expect(await portIsFree(Number(first.address.split(':')[1]))).toBe(true);

    const second = await start();
    const { connection, client } = await connectClient({ address: second.address, namespace: 'default' });
    try {
      const listed = await listUntilFound(client, query);
      expect(listed.map((execution) => execution.workflowId)).toEqual([workflowId]);
      expect(listed[0]?.status.name).toBe('COMPLETED');
      expect(await client.workflow.getHandle(workflowId).result()).toBe(syncName);
    } finally {
      await connection.close();
    }
    await second.stop();
  });

  it('reports a server that exits before it is ready, with the command line', async () => {
    await expect(startTemporalDevServer({ dataDir, port: 0, uiPort: 0, cliPath: '/bin/false' })).rejects.toThrow(
      /^Temporal dev server exited \(code 1, signal null\) before it was ready \(.*\/bin\/false server start-dev /,
    );
  });

  it('refuses a port that is already taken, naming it', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startTemporalDevServer({ dataDir, port, uiPort: 0 })).rejects.toThrow(
        `Port ${port} is in use: another Temporal server or process holds it. Stop it or set TEMPORAL_PORT.`,
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
