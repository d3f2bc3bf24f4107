/**
 * mTLS to Temporal from the config (`temporal.tls`): the worker and a client connect with a
 * client certificate, check the server against a private CA under the name of
 * `serverNameOverride`, and run a stock sync.
 *
 * The Temporal CLI's dev server (1.9.1) has no TLS options, so the server side is a TLS
 * terminator in front of it (node:tls, ALPN h2, client certificates required and checked against
 * the same throw-away CA), as a load balancer or an ingress would be in front of a cluster.
 * Certificates are made with openssl for this test only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { parseConfig, type LoadedConfig } from '../../config/load';
import { builtInConnectors } from '../../connectors/registry';
import { createLogger, temporalLoggerFor } from '../../observability/logger';
import { connectClient, connectWorkerConnection } from '../../temporal/connection';
import { syncStartOptions, syncWorkflowId } from '../../temporal/sync-starts';
import { temporalTargetFromConfig } from '../../temporal/target';
import { WORKFLOWS_PATH, createHubWorkers } from '../../worker';
import { stockSync } from '../../workflows/stock-sync';
import { createHubFixture, TEST_SHOPIFY_TOKEN, type HubFixture } from '../support/hub-fixture';
import { createTestEnvironment } from '../support/temporal';

const SERVER_NAME = 'temporal.omnisync.test';

/** A CA, a server certificate for SERVER_NAME and a client certificate, all signed by the CA. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=omnisync test CA');
  for (const [name, subject, extension] of [
    ['server', `/CN=${SERVER_NAME}`, `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth\n`],
    ['client', '/CN=omnisync-worker', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    writeFileSync(join(dir, `${name}.ext`), extension);
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
}

describe('mTLS to Temporal (temporal.tls)', () => {
  let env: TestWorkflowEnvironment;
  let fixture: HubFixture;
  let terminator: tls.Server;
  let address: string;
  const clientNames: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-mtls-'));

  beforeAll(async () => {
    makeCertificates(dir);
    env = await createTestEnvironment();
    const [backendHost, backendPort] = [env.address.slice(0, env.address.lastIndexOf(':')), Number(env.address.slice(env.address.lastIndexOf(':') + 1))];
    terminator = tls.createServer(
      {
        key: readFileSync(join(dir, 'server.key')),
        cert: readFileSync(join(dir, 'server.pem')),
        ca: readFileSync(join(dir, 'ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket) => {
        clientNames.push(String(socket.getPeerCertificate().subject?.CN));
        const backend = net.connect(backendPort, backendHost);
        socket.pipe(backend).pipe(socket);
        const close = () => {
          socket.destroy();
          backend.destroy();
        };
        socket.on('error', close);
        backend.on('error', close);
      },
    );
    await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', () => resolve()));
    address = `127.0.0.1:${(terminator.address() as net.AddressInfo).port}`;
    fixture = await createHubFixture({ temporalAddress: address, products: 40, pageSize: 50, taskQueue: 'omnisync-mtls' });
  }, 180_000);

  afterAll(async () => {
    await fixture?.close();
    await new Promise<void>((resolve) => (terminator ? terminator.close(() => resolve()) : resolve()));
    await env?.teardown();
  });

  /** The fixture's config with `temporal.tls` as an operator writes it (paths relative to the config file). */
  function configWithTls(tlsSection: Record<string, string>): LoadedConfig {
    for (const file of ['ca.pem', 'client.pem', 'client.key']) writeFileSync(join(fixture.dir, file), readFileSync(join(dir, file)));
    const document = YAML.parse(readFileSync(fixture.configFile, 'utf8')) as { temporal: Record<string, unknown> };
    document.temporal.tls = tlsSection;
    const file = join(fixture.dir, 'omnisync-tls.yaml');
    writeFileSync(file, YAML.stringify(document));
    return parseConfig(readFileSync(file, 'utf8'), file, { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: TEST_SHOPIFY_TOKEN } });
  }

  it('the worker and a client connect with the client certificate and run a stock sync', async () => {
    const config = configWithTls({ serverRootCaCertFile: 'ca.pem', clientCertFile: 'client.pem', clientKeyFile: 'client.key', serverNameOverride: SERVER_NAME });
    const logger = createLogger({ level: 'warn' });
    const connection = await connectWorkerConnection(temporalTargetFromConfig(config.temporal));
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: temporalLoggerFor(logger) });
    const workers = await createHubWorkers({ config, logger, connection, workflowBundle });
    const running = workers.run();
    const { connection: clientConnection, client } = await connectClient(temporalTargetFromConfig(config.temporal));
    try {
      const sync = config.syncs.get('erp-stock-to-shopify')!;
      const handle = await client.workflow.start(stockSync, { ...syncStartOptions(config, sync, 'full'), workflowId: `${syncWorkflowId(sync, 'full')}:mtls` });
      const result = await handle.result();
      expect(result.itemsRead).toBeGreaterThan(0);
      expect(result.itemsFailed).toBe(0);
    } finally {
      await clientConnection.close();
      workers.shutdown();
      await running;
      await connection.close();
    }
    expect(clientNames.length).toBeGreaterThan(0);
    expect(new Set(clientNames)).toEqual(new Set(['omnisync-worker']));
  }, 120_000);

  it('without the client certificate, or without TLS, the connection fails', async () => {
    const serverOnly = configWithTls({ serverRootCaCertFile: 'ca.pem', serverNameOverride: SERVER_NAME });
    await expect(connectClient({ ...temporalTargetFromConfig(serverOnly.temporal) }).then(async ({ connection, client }) => {
      try {
        await client.workflowService.getSystemInfo({});
      } finally {
        await connection.close();
      }
    })).rejects.toThrow();
    await expect(connectWorkerConnection({ address, namespace: 'default' })).rejects.toThrow();
  }, 60_000);
});
